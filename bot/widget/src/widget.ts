// The widget on the page: a launcher button and a chat panel in a shadow root,
// showing the shared store (store.ts) and passing what the customer does to the
// tab that holds the connection (engine.ts, leader.ts).
//
// Keyboard: the launcher opens the panel and focuses the input; Escape closes
// it and returns focus to the launcher; Enter sends, Shift+Enter is a new line.
// New messages are announced through the log's polite live region.

import type { WidgetConfig } from "./config";
import { ICONS, h, icon, randomId } from "./dom";
import { Engine, type SocketFactory, socketIo } from "./engine";
import { type Strings, strings as stringsFor } from "./i18n";
import { elect, type Leadership } from "./leader";
import type { ConnectionState, Entry } from "./messages";
import { botMessage } from "./messages";
import { handoffState, type Rendered, type RenderOptions, renderEntry } from "./render";
import { Store } from "./store";
import { css } from "./styles";

const MAX_INPUT_CHARS = 4000;

export interface MountOptions {
  /** Where the widget is attached; document.body by default. */
  parent?: HTMLElement;
  socketFactory?: SocketFactory;
}

export class Widget {
  readonly host: HTMLElement;
  readonly root: ShadowRoot;
  private readonly strings: Strings;
  private readonly store: Store;
  private readonly leadership: Leadership;
  private engine: Engine | null = null;
  private readonly renderOptions: RenderOptions;
  private rendered: Array<{ id: string; view: Rendered }> = [];
  private unread = 0;
  private synced = false;
  private readonly ui: {
    container: HTMLElement;
    launcher: HTMLButtonElement;
    badge: HTMLElement;
    panel: HTMLElement;
    mode: HTMLElement;
    connection: HTMLElement;
    confirm: HTMLElement;
    confirmYes: HTMLButtonElement;
    scroll: HTMLElement;
    log: HTMLElement;
    typing: HTMLElement;
    input: HTMLTextAreaElement;
    form: HTMLFormElement;
  };

  constructor(
    readonly config: WidgetConfig,
    options: MountOptions = {},
  ) {
    this.strings = stringsFor(config.language);
    this.store = new Store(config.storageKey);
    this.renderOptions = {
      strings: this.strings,
      language: config.language,
      actions: {
        choose: (title, payload) => {
          this.send(title, payload);
          this.focusInput();
        },
        retry: (entry) => this.store.request({ kind: "retry", entry }),
        focusInput: () => this.focusInput(),
      },
    };
    this.host = h("div", { "data-frontline-widget": "" });
    this.root = this.host.attachShadow({ mode: "open" });
    this.ui = this.build();
    this.store.subscribe((change) => this.onChange(change));
    this.sync();
    this.showLive();
    (options.parent || document.body).appendChild(this.host);
    if (config.open || this.rememberedOpen()) this.open(false);

    const factory = options.socketFactory || socketIo;
    const lead = (crossTab: boolean) => (): (() => void) => {
      const engine = new Engine(this.store, config, crossTab, factory);
      this.engine = engine;
      engine.start();
      return () => {
        engine.stop();
        if (this.engine === engine) this.engine = null;
      };
    };
    // Tabs share one connection only if they share the store.
    this.leadership = this.store.shared
      ? elect(`${config.storageKey}:leader`, lead(true))
      : { shared: false, release: lead(false)() };
  }

  /** Shows ``message`` as if the server had sent it (for previews and tests). */
  receive(message: unknown): void {
    const parsed = botMessage(message);
    if (parsed !== null)
      this.store.append({ id: randomId(), from: "bot", ts: Date.now(), message: parsed });
  }

  /** The conversation as this browser keeps it. */
  entries(): Entry[] {
    return this.store.entries();
  }

  sessionId(): string | null {
    return this.store.session();
  }

  isLeader(): boolean {
    return this.engine !== null;
  }

  destroy(): void {
    this.leadership.release();
    this.store.close();
    this.host.remove();
  }

  open(focus = true): void {
    const { panel, launcher, container } = this.ui;
    panel.hidden = false;
    container.classList.add("fl-open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", this.strings.closeChat);
    launcher.replaceChildren(icon(ICONS.close));
    this.unread = 0;
    this.showUnread();
    this.remember(true);
    this.scrollToEnd();
    if (focus) this.focusInput();
  }

  close(): void {
    const { panel, launcher, container } = this.ui;
    panel.hidden = true;
    container.classList.remove("fl-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", this.strings.openChat);
    launcher.replaceChildren(icon(ICONS.chat), this.ui.badge);
    this.remember(false);
    launcher.focus();
  }

  isOpen(): boolean {
    return !this.ui.panel.hidden;
  }

  send(text: string, payload?: string): void {
    const shown = text.trim();
    if (!shown) return;
    this.store.request({ kind: "send", text: shown.slice(0, MAX_INPUT_CHARS), payload });
  }

  focusInput(): void {
    this.ui.input.focus();
  }

  // ------------------------------------------------------------ building

  private build(): Widget["ui"] {
    const s = this.strings;
    const style = h("style", {}, css(this.config));
    const container = h("div", {
      class: `fl-root fl-${this.config.position}`,
      lang: this.config.language,
    });

    const badge = h("span", { class: "fl-badge", hidden: true });
    const launcher = h(
      "button",
      {
        type: "button",
        class: "fl-launcher",
        "aria-expanded": "false",
        "aria-controls": "fl-panel",
        "aria-label": s.openChat,
      },
      icon(ICONS.chat),
      badge,
    );
    launcher.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));

    const mode = h("span", { class: "fl-mode" });
    const connection = h("span", { class: "fl-conn", role: "status" });
    const restart = h(
      "button",
      {
        type: "button",
        class: "fl-icon-button fl-start-over",
        "aria-label": s.startOver,
        title: s.startOver,
      },
      icon(ICONS.restart),
    );
    const closeButton = h(
      "button",
      {
        type: "button",
        class: "fl-icon-button fl-close",
        "aria-label": s.closeChat,
        title: s.closeChat,
      },
      icon(ICONS.close),
    );
    closeButton.addEventListener("click", () => this.close());
    const header = h(
      "header",
      { class: "fl-header" },
      h(
        "div",
        { class: "fl-heading" },
        h("h2", { class: "fl-title", id: "fl-title" }, this.config.title),
        h("p", { class: "fl-subtitle" }, mode, connection),
      ),
      restart,
      closeButton,
    );

    const confirmYes = h("button", { type: "button", class: "fl-danger" }, s.startOverConfirm);
    const confirmNo = h("button", { type: "button" }, s.cancel);
    const confirm = h(
      "div",
      { class: "fl-confirm", role: "group", "aria-label": s.startOver, hidden: true },
      h("p", {}, s.startOverQuestion),
      confirmYes,
      confirmNo,
    );
    restart.addEventListener("click", () => {
      confirm.hidden = false;
      confirmYes.focus();
    });
    confirmNo.addEventListener("click", () => {
      confirm.hidden = true;
      restart.focus();
    });
    confirmYes.addEventListener("click", () => {
      confirm.hidden = true;
      this.store.request({ kind: "reset" });
      this.focusInput();
    });

    const intro = this.config.greeting
      ? h(
          "div",
          { class: "fl-entry fl-entry-bot fl-greeting" },
          h("div", { class: "fl-bubble fl-bot" }, this.config.greeting),
        )
      : null;
    const log = h("div", {
      class: "fl-log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": s.conversation,
    });
    const typing = h(
      "div",
      { class: "fl-typing", hidden: true },
      h("span", { class: "fl-sr" }, s.typing),
      h("span", { class: "fl-dot", "aria-hidden": "true" }),
      h("span", { class: "fl-dot", "aria-hidden": "true" }),
      h("span", { class: "fl-dot", "aria-hidden": "true" }),
    );
    const scroll = h(
      "div",
      { class: "fl-scroll", tabindex: "0", "aria-label": s.conversation },
      intro,
      log,
      typing,
    );

    const input = h("textarea", {
      class: "fl-input",
      id: "fl-input",
      rows: 1,
      maxlength: MAX_INPUT_CHARS,
      placeholder: s.placeholder,
      "aria-label": s.yourMessage,
      autocomplete: "off",
    });
    const form = h(
      "form",
      { class: "fl-form" },
      input,
      h(
        "button",
        { type: "submit", class: "fl-send", "aria-label": s.send, title: s.send },
        icon(ICONS.send),
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    input.addEventListener("input", () => this.autosize());

    const panel = h(
      "section",
      {
        class: "fl-panel",
        id: "fl-panel",
        role: "dialog",
        "aria-modal": "false",
        "aria-labelledby": "fl-title",
        hidden: true,
      },
      header,
      confirm,
      scroll,
      form,
    );
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        if (!confirm.hidden) {
          confirm.hidden = true;
          restart.focus();
        } else {
          this.close();
        }
      }
    });

    container.append(panel, launcher);
    this.root.append(style, container);
    return {
      container,
      launcher,
      badge,
      panel,
      mode,
      connection,
      confirm,
      confirmYes,
      scroll,
      log,
      typing,
      input,
      form,
    };
  }

  private submit(): void {
    const { input } = this.ui;
    const value = input.value;
    if (!value.trim()) return;
    this.send(value);
    input.value = "";
    this.autosize();
  }

  private autosize(): void {
    const { input } = this.ui;
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 2, 120)}px`;
  }

  // ------------------------------------------------------------ showing the store

  private onChange(change: string): void {
    if (change === "entries" || change === "session") this.sync();
    if (change === "live") this.showLive();
  }

  /** Brings the log in line with the stored entries. An entry already shown
   * keeps its node (the live region announces only what is new), wherever the
   * entries before it came or went (dropped as the oldest, or merged in from the
   * server's history). */
  private sync(): void {
    const entries = this.store.entries();
    const { log } = this.ui;
    const wanted = new Set(entries.map((entry) => entry.id));
    const shown = new Map<string, Rendered>();
    for (const item of this.rendered) {
      if (wanted.has(item.id) && !shown.has(item.id)) shown.set(item.id, item.view);
      else item.view.node.remove();
    }
    const rendered: Widget["rendered"] = [];
    let arrived = 0;
    let cursor = log.firstChild;
    for (const entry of entries) {
      let view = shown.get(entry.id);
      shown.delete(entry.id);
      if (view === undefined) {
        view = renderEntry(entry, this.renderOptions);
        if (entry.from === "bot" && this.synced) arrived += 1;
      }
      if (view.node === cursor) cursor = cursor.nextSibling;
      else log.insertBefore(view.node, cursor);
      rendered.push({ id: entry.id, view });
    }
    this.rendered = rendered;
    this.synced = true;
    this.updateAll(entries);
    this.ui.mode.textContent = handoffState(entries, this.strings) || "";
    if (arrived && !this.isOpen()) {
      this.unread += arrived;
      this.showUnread();
    }
    this.scrollToEnd();
  }

  private updateAll(entries: Entry[]): void {
    const connection = this.store.live().connection;
    this.rendered.forEach((item, index) => item.view.update({ entries, index, connection }));
  }

  private showLive(): void {
    const live = this.store.live();
    this.updateAll(this.store.entries());
    const labels: Record<ConnectionState, string> = {
      online: this.strings.online,
      connecting: this.strings.connecting,
      offline: this.strings.offline,
      none: "",
    };
    const { connection, typing } = this.ui;
    connection.setAttribute("data-state", live.connection);
    if (connection.textContent !== labels[live.connection])
      connection.textContent = labels[live.connection];
    typing.hidden = !live.waiting;
    this.scrollToEnd();
  }

  private showUnread(): void {
    const { badge, launcher } = this.ui;
    badge.hidden = this.unread === 0;
    badge.textContent = this.unread ? String(this.unread) : "";
    if (!this.isOpen()) {
      const label = this.strings.openChat;
      launcher.setAttribute(
        "aria-label",
        this.unread ? `${label} (${this.strings.unread(this.unread)})` : label,
      );
    }
  }

  private scrollToEnd(): void {
    const { scroll } = this.ui;
    scroll.scrollTop = scroll.scrollHeight;
  }

  private rememberedOpen(): boolean {
    try {
      return window.sessionStorage.getItem(`${this.config.storageKey}:open`) === "1";
    } catch {
      return false;
    }
  }

  private remember(open: boolean): void {
    try {
      window.sessionStorage.setItem(`${this.config.storageKey}:open`, open ? "1" : "0");
    } catch {
      // not remembered across reloads then
    }
  }
}

export function mount(config: WidgetConfig, options: MountOptions = {}): Widget {
  return new Widget(config, options);
}
