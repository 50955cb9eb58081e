// One conversation entry as DOM. Every string from outside is a text node or
// goes through the safe Markdown renderer; links and images only ever point to
// http(s) (and mailto) addresses. Each rendered entry can update itself in
// place (buttons become inactive once the conversation moved on) so nothing
// already in the live region is announced twice.

import { clean, h, text } from "./dom";
import type { Strings } from "./i18n";
import { renderMarkdown, safeLink, safeUrl } from "./markdown";
import type { BotEntry, BotMessage, ConnectionState, Custom, Entry, UserEntry } from "./messages";
import { customOf, isRecord, str } from "./messages";

export interface Actions {
  /** The customer picked a button: show ``title``, send ``payload``. */
  choose(title: string, payload: string): void;
  retry(entryId: string): void;
  focusInput(): void;
}

export interface Context {
  entries: Entry[];
  index: number;
  connection: ConnectionState;
}

export interface Rendered {
  node: HTMLElement;
  update(context: Context): void;
}

export interface RenderOptions {
  strings: Strings;
  language: string;
  actions: Actions;
}

/** The handoff message types, in the order of a handoff (docs/widget.md). */
export const NOTICE_TYPES = ["handoff_queued", "agent_joined", "agent_left", "bot_resumed"];

function time(ts: number, language: string): HTMLTimeElement {
  const date = new Date(ts);
  let shown: string;
  try {
    shown = new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit" }).format(date);
  } catch {
    shown = date.toTimeString().slice(0, 5);
  }
  return h("time", { class: "fl-time", datetime: date.toISOString() }, shown);
}

function srOnly(value: string): HTMLSpanElement {
  return h("span", { class: "fl-sr" }, value);
}

function isLast(context: Context): boolean {
  return context.index === context.entries.length - 1;
}

function agentName(custom: Custom | null, strings: Strings): string {
  const agent = custom && isRecord(custom.agent) ? custom.agent : null;
  return clean((agent && str(agent.name)) || strings.anAgent);
}

function teamLabel(custom: Custom, strings: Strings): string {
  const team = str(custom.team);
  if (team) return clean(team);
  const tier = custom.tier;
  if (typeof tier === "number" || (typeof tier === "string" && tier.trim())) return `Tier ${tier}`;
  return strings.ourTeam;
}

function waitMinutes(custom: Custom): number | null {
  const wait = Number(custom.wait_minutes);
  return custom.wait_minutes === undefined ||
    custom.wait_minutes === null ||
    !isFinite(wait) ||
    wait < 0
    ? null
    : Math.round(wait);
}

/** What the header says about who the customer is talking to, after ``entries``. */
export function handoffState(entries: Entry[], strings: Strings): string | null {
  for (let index = entries.length - 1; index >= 0; index -= 1) {
    const entry = entries[index];
    if (entry.from !== "bot") continue;
    const custom = customOf(entry.message);
    const type = custom ? custom.type : null;
    if (custom === null || typeof type !== "string") continue;
    if (type === "handoff_queued") return strings.waitingFor(teamLabel(custom, strings));
    if (type === "agent_joined" || type === "agent_message") {
      return strings.chattingWith(agentName(custom, strings));
    }
    if (type === "agent_left" || type === "bot_resumed") return null;
  }
  return null;
}

// ---------------------------------------------------------------- parts

interface Part {
  node: HTMLElement;
  update?: (context: Context) => void;
}

function markdownBubble(className: string, body: string, label: string, extra?: Node): HTMLElement {
  const bubble = h("div", { class: `fl-bubble ${className}` }, srOnly(`${label}: `));
  if (extra) bubble.appendChild(extra);
  const content = h("div", { class: "fl-md" });
  content.appendChild(renderMarkdown(body));
  bubble.appendChild(content);
  return bubble;
}

function notice(className: string, message: string): HTMLElement {
  return h("p", { class: `fl-notice ${className}` }, message);
}

function choiceButtons(
  raw: unknown,
  className: string,
  options: RenderOptions,
  hideWhenInactive: boolean,
): Part | null {
  if (!Array.isArray(raw) || raw.length === 0) return null;
  const row = h("div", { class: `fl-choices ${className}`, role: "group" });
  const buttons: HTMLButtonElement[] = [];
  for (const candidate of raw.slice(0, 20)) {
    if (!isRecord(candidate)) continue;
    const title = str(candidate.title);
    if (title === null) continue;
    const url = candidate.url ?? (candidate.type === "web_url" ? candidate.payload : undefined);
    if (url !== undefined) {
      const link = safeLink(url, [title]);
      if (link !== null) {
        link.className = "fl-choice fl-choice-link";
        row.appendChild(link);
      }
      continue;
    }
    const payload = typeof candidate.payload === "string" ? candidate.payload : title;
    const button = h("button", { type: "button", class: "fl-choice" }, title);
    button.addEventListener("click", () => {
      if (button.disabled) return;
      options.actions.choose(title, payload);
    });
    buttons.push(button);
    row.appendChild(button);
  }
  if (!row.firstChild) return null;
  return {
    node: row,
    update(context) {
      const active = isLast(context);
      for (const button of buttons) button.disabled = !active;
      if (hideWhenInactive) row.hidden = !active;
    },
  };
}

function articleCard(custom: Custom, options: RenderOptions): Part | null {
  const title = str(custom.title);
  if (title === null) return null;
  const { strings } = options;
  const card = h("article", { class: "fl-card" });
  const heading = h("h3", { class: "fl-card-title" });
  heading.appendChild(safeLink(custom.url, [title]) ?? text(title));
  card.appendChild(heading);
  const source = str(custom.source);
  if (source) card.appendChild(h("p", { class: "fl-card-source" }, source));
  const passage = str(custom.passage);
  if (passage) {
    const body = h("div", { class: "fl-md fl-card-passage" });
    body.appendChild(renderMarkdown(passage));
    card.appendChild(body);
  }
  const more = safeLink(custom.url, [strings.readArticle, srOnly(`: ${title}`)]);
  if (more !== null) {
    more.className = "fl-card-more";
    card.appendChild(more);
  }
  if (Array.isArray(custom.related)) {
    const items = custom.related
      .slice(0, 5)
      .map((related) =>
        isRecord(related) && str(related.title)
          ? safeLink(related.url, [String(related.title)])
          : null,
      )
      .filter((link): link is HTMLAnchorElement => link !== null);
    if (items.length) {
      card.appendChild(h("p", { class: "fl-card-related-title" }, strings.related));
      const list = h("ul", { class: "fl-card-related" });
      for (const link of items) list.appendChild(h("li", {}, link));
      card.appendChild(list);
    }
  }
  return { node: card };
}

function elementCards(raw: unknown, options: RenderOptions): Part[] {
  if (!Array.isArray(raw)) return [];
  const parts: Part[] = [];
  for (const element of raw.slice(0, 10)) {
    if (!isRecord(element) || !str(element.title)) continue;
    const card = h("article", { class: "fl-card" });
    const action = isRecord(element.default_action) ? element.default_action.url : undefined;
    const heading = h("h3", { class: "fl-card-title" });
    heading.appendChild(safeLink(action, [String(element.title)]) ?? text(String(element.title)));
    card.appendChild(heading);
    const subtitle = str(element.subtitle);
    if (subtitle) card.appendChild(h("p", { class: "fl-card-passage" }, subtitle));
    const buttons = choiceButtons(element.buttons, "fl-card-buttons", options, false);
    if (buttons) card.appendChild(buttons.node);
    parts.push({ node: card, update: buttons?.update });
  }
  return parts;
}

function csat(custom: Custom, options: RenderOptions): Part {
  const { strings } = options;
  const question = clean(str(custom.question) || strings.csatQuestion);
  const group = h("div", { class: "fl-csat", role: "group", "aria-label": question });
  group.appendChild(h("p", { class: "fl-csat-question" }, question));
  const row = h("div", { class: "fl-csat-scores" });
  const buttons: HTMLButtonElement[] = [];
  for (let score = 1; score <= 5; score += 1) {
    const label = `${score}: ${strings.csatLabels[score - 1]}`;
    const button = h(
      "button",
      {
        type: "button",
        class: "fl-csat-score",
        "aria-pressed": "false",
        "aria-label": label,
        title: label,
      },
      String(score),
    );
    button.addEventListener("click", () => {
      if (button.disabled) return;
      options.actions.choose(strings.csatScore(score), `/csat{"score": ${score}}`);
    });
    buttons.push(button);
    row.appendChild(button);
  }
  group.appendChild(row);
  group.appendChild(
    h(
      "div",
      { class: "fl-csat-ends", "aria-hidden": "true" },
      h("span", {}, strings.csatLabels[0]),
      h("span", {}, strings.csatLabels[4]),
    ),
  );
  const thanks = h("p", { class: "fl-csat-thanks", hidden: true }, strings.csatThanks);
  if (custom.comment !== false) thanks.appendChild(text(` ${strings.csatComment}`));
  group.appendChild(thanks);
  return {
    node: group,
    update(context) {
      let chosen: number | null = null;
      let botSpokeSince = false;
      for (const later of context.entries.slice(context.index + 1)) {
        if (later.from === "bot") botSpokeSince = true;
        const match =
          later.from === "user" && (later.payload || "").match(/^\/csat\{"score": ?([1-5])\}$/);
        if (match && chosen === null) chosen = Number(match[1]);
      }
      buttons.forEach((button, index) => {
        button.disabled = chosen !== null || botSpokeSince;
        button.setAttribute("aria-pressed", String(chosen === index + 1));
      });
      thanks.hidden = chosen === null;
    },
  };
}

// ---------------------------------------------------------------- entries

function customPart(
  message: BotMessage,
  custom: Custom,
  options: RenderOptions,
): Part | null | undefined {
  const { strings } = options;
  switch (custom.type) {
    case "agent_message": {
      const name = agentName(custom, strings);
      const body = str(custom.text) || str(message.text) || "";
      const label = h(
        "span",
        { class: "fl-agent-name", "aria-hidden": "true" },
        name,
        h("span", { class: "fl-agent-tag" }, strings.agent),
      );
      const bubble = markdownBubble("fl-agent", body, `${name} (${strings.agent})`, label);
      return { node: bubble };
    }
    case "article":
      return articleCard(custom, options);
    case "handoff_queued": {
      // A team that is closed now has no usual wait: the server's sentence says
      // when it opens.
      const closed = custom.open_now === false && str(message.text);
      return {
        node: notice(
          "fl-notice-handoff",
          closed || strings.queued(teamLabel(custom, strings), waitMinutes(custom)),
        ),
      };
    }
    case "agent_joined":
      return { node: notice("fl-notice-handoff", strings.joined(agentName(custom, strings))) };
    case "agent_left":
      return { node: notice("fl-notice-handoff", strings.left(agentName(custom, strings))) };
    case "bot_resumed":
      return { node: notice("fl-notice-handoff", strings.botBack) };
    case "csat_request":
      return csat(custom, options);
    case "service_trouble": {
      const bubble = markdownBubble(
        "fl-trouble",
        str(message.text) || strings.trouble,
        strings.assistant,
      );
      return { node: bubble };
    }
    default:
      return undefined; // not a type the widget knows: its text is shown
  }
}

function imagePart(raw: unknown, strings: Strings): Part | null {
  const src = safeUrl(raw);
  if (src === null || src.startsWith("mailto:")) return null;
  const image = h("img", {
    class: "fl-image",
    src,
    alt: strings.image,
    loading: "lazy",
    referrerpolicy: "no-referrer",
  });
  return { node: h("div", { class: "fl-bubble fl-bot fl-media" }, image) };
}

function attachmentPart(raw: unknown, strings: Strings): Part | null {
  let url: unknown = raw;
  if (isRecord(raw)) {
    const payload = isRecord(raw.payload) ? raw.payload : raw;
    url = payload.src ?? payload.url;
  }
  const link = safeLink(url, [strings.attachment]);
  return link === null ? null : { node: h("div", { class: "fl-bubble fl-bot" }, link) };
}

function botParts(message: BotMessage, options: RenderOptions): Part[] {
  const parts: Part[] = [];
  const custom = customOf(message);
  const known = custom === null ? undefined : customPart(message, custom, options);
  if (known) parts.push(known);
  if (known === undefined) {
    const body = str(message.text);
    if (body) parts.push({ node: markdownBubble("fl-bot", body, options.strings.assistant) });
  }
  const image = imagePart(message.image, options.strings);
  if (image) parts.push(image);
  const attachment = attachmentPart(message.attachment, options.strings);
  if (attachment) parts.push(attachment);
  parts.push(...elementCards(message.elements, options));
  // A rating shows its own score buttons; the message's buttons are there for
  // channels without it.
  const ownChoices = custom !== null && custom.type === "csat_request";
  const buttons = ownChoices ? null : choiceButtons(message.buttons, "fl-buttons", options, false);
  if (buttons) parts.push(buttons);
  const replies = choiceButtons(message.quick_replies, "fl-quick-replies", options, true);
  if (replies) parts.push(replies);
  return parts;
}

function kindOf(message: BotMessage): string {
  const custom = customOf(message);
  return custom && typeof custom.type === "string" && /^[a-z_]{1,40}$/.test(custom.type)
    ? custom.type
    : "text";
}

export function renderBot(entry: BotEntry, options: RenderOptions): Rendered {
  const parts = botParts(entry.message, options);
  const kind = kindOf(entry.message);
  const isNotice = NOTICE_TYPES.includes(kind);
  const node = h("div", {
    class: `fl-entry fl-entry-bot${kind === "agent_message" ? " fl-entry-agent" : ""}${isNotice ? " fl-entry-notice" : ""}`,
    "data-kind": kind,
  });
  for (const part of parts) node.appendChild(part.node);
  if (parts.length === 0) node.hidden = true;
  else if (!isNotice) node.appendChild(time(entry.ts, options.language));
  return {
    node,
    update(context) {
      for (const part of parts) part.update?.(context);
    },
  };
}

export function renderUser(entry: UserEntry, options: RenderOptions): Rendered {
  const { strings } = options;
  const status = h("span", { class: "fl-status-text" });
  const retry = h("button", { type: "button", class: "fl-retry", hidden: true }, strings.retry);
  retry.addEventListener("click", () => {
    options.actions.retry(entry.id);
    options.actions.focusInput();
  });
  const bubble = h(
    "div",
    { class: "fl-bubble fl-user" },
    srOnly(`${strings.you}: `),
    h("span", { class: "fl-plain" }, entry.text),
  );
  const meta = h("div", { class: "fl-meta" }, time(entry.ts, options.language), status, retry);
  const node = h(
    "div",
    { class: "fl-entry fl-entry-user", "data-status": entry.status },
    bubble,
    meta,
  );
  return {
    node,
    update(context) {
      const current = context.entries[context.index] as UserEntry;
      node.setAttribute("data-status", current.status);
      let shown = "";
      if (current.status === "failed") shown = strings.failed;
      else if (current.status === "pending")
        shown = context.connection === "online" ? strings.sending : strings.pending;
      if (status.textContent !== shown) status.textContent = shown;
      retry.hidden = current.status !== "failed";
    },
  };
}

export function renderEntry(entry: Entry, options: RenderOptions): Rendered {
  return entry.from === "user" ? renderUser(entry, options) : renderBot(entry, options);
}
