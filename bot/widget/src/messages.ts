// What travels over the socket and what the widget keeps of a conversation.
// The contract with the server side is documented in docs/widget.md.

export interface Button {
  title?: unknown;
  payload?: unknown;
  url?: unknown;
  type?: unknown;
}

/** A ``bot_uttered`` event: one bot message as the action produced it. */
export interface BotMessage {
  text?: unknown;
  buttons?: unknown;
  quick_replies?: unknown;
  image?: unknown;
  attachment?: unknown;
  elements?: unknown;
  custom?: unknown;
}

export type Custom = Record<string, unknown> & { type?: unknown };

export type UserStatus = "pending" | "sent" | "failed";

export interface UserEntry {
  id: string; // also the message_id sent to the server
  from: "user";
  ts: number;
  text: string; // what the customer sees (a button's title)
  payload?: string; // what is sent, if not the text (a button's payload)
  status: UserStatus;
}

export interface BotEntry {
  id: string;
  from: "bot";
  ts: number;
  message: BotMessage;
}

export type Entry = UserEntry | BotEntry;

export type ConnectionState = "connecting" | "online" | "offline" | "none";

/** What the tab that holds the connection tells the other tabs. */
export interface LiveState {
  connection: ConnectionState;
  waiting: boolean; // a message is out and its acknowledgement not back yet
}

export type Command =
  | { kind: "send"; id: string; ts: number; text: string; payload?: string }
  | { kind: "retry"; id: string; ts: number; entry: string }
  | { kind: "reset"; id: string; ts: number };

export type CommandInput =
  | { kind: "send"; text: string; payload?: string }
  | { kind: "retry"; entry: string }
  | { kind: "reset" };

/** The server's acknowledgement of ``user_uttered``. */
export interface Ack {
  status?: unknown;
  reason?: unknown;
}

export const MESSAGE_KEYS = [
  "text",
  "buttons",
  "quick_replies",
  "image",
  "attachment",
  "elements",
  "custom",
] as const;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The known keys of a server message, or null if it is not an object. */
export function botMessage(value: unknown): BotMessage | null {
  if (!isRecord(value)) return null;
  const message: BotMessage = {};
  for (const key of MESSAGE_KEYS) {
    if (value[key] !== undefined && value[key] !== null) message[key] = value[key];
  }
  return message;
}

export function customOf(message: BotMessage): Custom | null {
  return isRecord(message.custom) ? (message.custom as Custom) : null;
}

export function str(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value : null;
}
