// Frontline's chat widget, embedded with one tag:
//
//   <script src="https://support.example/widget/frontline-widget.js"
//           data-server-url="https://rasa.example" data-title="Support"></script>
//
// The tag mounts the widget once the page has a body. window.FrontlineWidget
// offers the same by hand (mount) and the renderers (for previews and tests).
// Options: docs/widget.md.

import { configFromScript, resolveConfig, type WidgetConfig } from "./config";
import { renderMarkdown, safeUrl } from "./markdown";
import { botMessage } from "./messages";
import { renderEntry } from "./render";
import { strings } from "./i18n";
import { mount as mountWidget, type MountOptions, type Widget } from "./widget";

declare const __WIDGET_VERSION__: string;

export interface FrontlineWidgetApi {
  version: string;
  /** The widget the <script> tag mounted, if any. */
  instance: Widget | null;
  mount(options: Partial<WidgetConfig>, mountOptions?: MountOptions): Widget;
  renderMarkdown(source: string): DocumentFragment;
  /** One bot message as the widget shows it, detached (no styles, no actions). */
  renderMessage(message: unknown, language?: string): HTMLElement | null;
  safeUrl(raw: unknown): string | null;
}

declare global {
  interface Window {
    FrontlineWidget?: FrontlineWidgetApi;
  }
}

function renderMessage(message: unknown, language = "en"): HTMLElement | null {
  const parsed = botMessage(message);
  if (parsed === null) return null;
  const entry = { id: "preview", from: "bot" as const, ts: Date.now(), message: parsed };
  const view = renderEntry(entry, {
    strings: strings(language),
    language,
    actions: { choose: () => undefined, retry: () => undefined, focusInput: () => undefined },
  });
  view.update({ entries: [entry], index: 0, connection: "none" });
  return view.node;
}

function install(): void {
  if (window.FrontlineWidget) return; // the script is on the page twice
  const api: FrontlineWidgetApi = {
    version: __WIDGET_VERSION__,
    instance: null,
    mount: (options, mountOptions) => mountWidget(resolveConfig(options), mountOptions),
    renderMarkdown,
    renderMessage,
    safeUrl: (raw) => safeUrl(raw),
  };
  window.FrontlineWidget = api;
  // currentScript is null in a few embeddings (e.g. loaded by a tag manager):
  // then the tag is found by its data-server-url attribute.
  const script =
    document.currentScript instanceof HTMLScriptElement
      ? document.currentScript
      : document.querySelector<HTMLScriptElement>(
          "script[data-server-url][src*='frontline-widget']",
        );
  if (script === null || !script.dataset.serverUrl) return;
  const config = configFromScript(script);
  const start = (): void => {
    api.instance = mountWidget(config);
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
}

install();
