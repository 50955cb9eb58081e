// The embed configuration: data- attributes of the <script> tag, or the
// options of FrontlineWidget.mount(). Documented in docs/widget.md.

export type Position = "right" | "left";

export interface WidgetConfig {
  /** Rasa server with Frontline's socket.io channel; null: no connection (tests, previews). */
  serverUrl: string | null;
  socketPath: string;
  title: string;
  /** Shown as the assistant's first bubble before anything is said (not sent). */
  greeting: string | null;
  language: string;
  position: Position;
  primaryColor: string;
  accentColor: string;
  /** Open the chat panel when the page loads. */
  open: boolean;
  /** Prefix of the browser storage keys; one conversation per prefix. */
  storageKey: string;
}

export const DEFAULTS = {
  socketPath: "/socket.io",
  title: "Support",
  language: "en",
  position: "right" as Position,
  primaryColor: "#14325c",
  accentColor: "#1a56a8",
};

const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

export function color(value: unknown, fallback: string): string {
  if (typeof value !== "string" || !HEX_COLOR.test(value.trim())) return fallback;
  const hex = value.trim().toLowerCase();
  return hex.length === 4 ? `#${hex[1]}${hex[1]}${hex[2]}${hex[2]}${hex[3]}${hex[3]}` : hex;
}

function channel(value: number): number {
  const c = value / 255;
  return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function luminance(hex: string): number {
  const n = parseInt(hex.slice(1), 16);
  return (
    0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255)
  );
}

/** WCAG contrast ratio of two #rrggbb colours. */
export function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

/** White or near-black, whichever reads better on ``background``. */
export function textOn(background: string): string {
  return contrast(background, "#ffffff") >= contrast(background, "#111111") ? "#ffffff" : "#111111";
}

/** ``hex`` darkened until it reaches ``ratio`` against white (text and borders). */
export function readableOnWhite(hex: string, ratio = 4.5): string {
  let n = parseInt(hex.slice(1), 16);
  let [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  let current = hex;
  while (contrast(current, "#ffffff") < ratio) {
    [r, g, b] = [Math.floor(r * 0.9), Math.floor(g * 0.9), Math.floor(b * 0.9)];
    n = (r << 16) | (g << 8) | b;
    current = `#${n.toString(16).padStart(6, "0")}`;
  }
  return current;
}

function cleanUrl(value: unknown): string | null {
  if (typeof value !== "string" || !value.trim()) return null;
  return value.trim().replace(/\/+$/, "");
}

function text(value: unknown, fallback: string): string {
  return typeof value === "string" && value.trim() ? value.trim() : fallback;
}

export function resolveConfig(options: Partial<WidgetConfig>): WidgetConfig {
  const serverUrl = cleanUrl(options.serverUrl);
  const language = text(options.language, DEFAULTS.language).toLowerCase();
  return {
    serverUrl,
    socketPath: text(options.socketPath, DEFAULTS.socketPath),
    title: text(options.title, DEFAULTS.title),
    greeting:
      typeof options.greeting === "string" && options.greeting.trim() ? options.greeting : null,
    language: /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/.test(language) ? language : DEFAULTS.language,
    position: options.position === "left" ? "left" : "right",
    primaryColor: color(options.primaryColor, DEFAULTS.primaryColor),
    accentColor: readableOnWhite(color(options.accentColor, DEFAULTS.accentColor)),
    open: options.open === true,
    storageKey: text(options.storageKey, `frontline:v1:${serverUrl || "local"}`),
  };
}

/** The configuration written on the embedding <script> tag. */
export function configFromScript(script: HTMLScriptElement): WidgetConfig {
  const data = script.dataset;
  return resolveConfig({
    serverUrl: data.serverUrl,
    socketPath: data.socketPath,
    title: data.title,
    greeting: data.greeting,
    language: data.lang || data.language,
    position: data.position as Position | undefined,
    primaryColor: data.primaryColor,
    accentColor: data.accentColor,
    open: data.open === "true",
    storageKey: data.storageKey,
  });
}
