// The conversation as this browser keeps it, shared by every tab of the site:
// the session id and its resume token, the last MAX_ENTRIES messages (with the customer's unsent
// ones), the connection state, and commands for the tab that holds the
// connection. localStorage, so a reload, another page or a second tab sees the
// same conversation; a tab is told of other tabs' writes by "storage" events.
// Where localStorage is unusable (disabled, private mode quota) the store lives
// in memory for this page only.

import { randomId } from "./dom";
import type { Command, CommandInput, Entry, LiveState } from "./messages";
import { isRecord } from "./messages";

export const MAX_ENTRIES = 200;

export type Change = "session" | "entries" | "live" | "commands";
export type Listener = (change: Change, fromOtherTab: boolean) => void;

class MemoryStorage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  key(index: number): string | null {
    return Array.from(this.items.keys())[index] ?? null;
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

type StorageLike = Pick<Storage, "length" | "key" | "getItem" | "setItem" | "removeItem">;

function usableLocalStorage(): Storage | null {
  try {
    const storage = window.localStorage;
    const probe = "frontline:probe";
    storage.setItem(probe, "1");
    storage.removeItem(probe);
    return storage;
  } catch {
    return null;
  }
}

function isEntry(value: unknown): value is Entry {
  return (
    isRecord(value) &&
    typeof value.id === "string" &&
    typeof value.ts === "number" &&
    ((value.from === "user" && typeof value.text === "string") ||
      (value.from === "bot" && isRecord(value.message)))
  );
}

export class Store {
  readonly shared: boolean;
  private storage: StorageLike;
  private listeners = new Set<Listener>();
  private cachedRaw: string | null = null;
  private cachedEntries: Entry[] = [];
  private onStorage = (event: StorageEvent): void => {
    if (event.storageArea !== this.storage || event.key === null) return;
    const change = this.changeOf(event.key);
    if (change !== null) this.emit(change, true);
  };

  constructor(
    private readonly prefix: string,
    storage?: StorageLike | null,
  ) {
    const local = storage === undefined ? usableLocalStorage() : storage;
    this.shared = local !== null;
    this.storage = local ?? new MemoryStorage();
    if (this.shared) window.addEventListener("storage", this.onStorage);
  }

  close(): void {
    window.removeEventListener("storage", this.onStorage);
    this.listeners.clear();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  session(): string | null {
    return this.read(this.key("session"));
  }

  /** The secret the server gave with the session: only a session_request
   * with it resumes the session (and its history) after a reconnect. */
  resumeToken(): string | null {
    return this.read(this.key("resume"));
  }

  setSession(id: string | null, resumeToken: string | null = null): void {
    if (resumeToken === null) this.remove(this.key("resume"));
    else this.write(this.key("resume"), resumeToken);
    if (id === null) this.remove(this.key("session"));
    else this.write(this.key("session"), id);
    this.emit("session", false);
  }

  entries(): Entry[] {
    const raw = this.read(this.key("entries"));
    if (raw !== this.cachedRaw) {
      this.cachedRaw = raw;
      this.cachedEntries = [];
      try {
        const parsed: unknown = raw === null ? [] : JSON.parse(raw);
        if (Array.isArray(parsed)) this.cachedEntries = parsed.filter(isEntry);
      } catch {
        this.cachedEntries = [];
      }
    }
    return this.cachedEntries;
  }

  setEntries(entries: Entry[]): void {
    // the oldest go first, but never a message the customer has not sent yet
    let kept = entries;
    while (kept.length > MAX_ENTRIES) {
      const drop = kept.findIndex(
        (entry) => !(entry.from === "user" && entry.status === "pending"),
      );
      if (drop < 0) break;
      kept = kept.slice(0, drop).concat(kept.slice(drop + 1));
    }
    const raw = JSON.stringify(kept);
    if (!this.write(this.key("entries"), raw)) {
      // over quota: keep the newer half rather than nothing
      this.write(this.key("entries"), JSON.stringify(kept.slice(Math.floor(kept.length / 2))));
    }
    this.emit("entries", false);
  }

  append(entry: Entry): void {
    this.setEntries(this.entries().concat([entry]));
  }

  updateEntry(id: string, patch: Partial<Entry>): void {
    this.setEntries(
      this.entries().map((entry) => (entry.id === id ? ({ ...entry, ...patch } as Entry) : entry)),
    );
  }

  live(): LiveState {
    const fallback: LiveState = { connection: "connecting", waiting: false };
    try {
      const parsed: unknown = JSON.parse(this.read(this.key("live")) || "null");
      return isRecord(parsed) ? { ...fallback, ...(parsed as Partial<LiveState>) } : fallback;
    } catch {
      return fallback;
    }
  }

  setLive(patch: Partial<LiveState>): void {
    const next = { ...this.live(), ...patch };
    this.write(this.key("live"), JSON.stringify(next));
    this.emit("live", false);
  }

  /** Asks the tab that holds the connection to do something. */
  request(input: CommandInput): Command {
    const command = { ...input, id: randomId(), ts: Date.now() } as Command;
    this.write(`${this.key("command")}:${command.id}`, JSON.stringify(command));
    this.emit("commands", false);
    return command;
  }

  /** Removes and returns the waiting commands, oldest first. */
  takeCommands(): Command[] {
    const prefix = `${this.key("command")}:`;
    const keys: string[] = [];
    for (let index = 0; index < this.storage.length; index += 1) {
      const key = this.storage.key(index);
      if (key !== null && key.startsWith(prefix)) keys.push(key);
    }
    const commands: Command[] = [];
    for (const key of keys) {
      const raw = this.read(key);
      this.remove(key);
      try {
        const parsed: unknown = JSON.parse(raw || "null");
        if (isRecord(parsed) && typeof parsed.kind === "string") commands.push(parsed as Command);
      } catch {
        // a corrupt command is dropped
      }
    }
    return commands.sort((a, b) => a.ts - b.ts);
  }

  private key(name: string): string {
    return `${this.prefix}:${name}`;
  }

  private changeOf(key: string): Change | null {
    if (key === this.key("session")) return "session";
    if (key === this.key("entries")) return "entries";
    if (key === this.key("live")) return "live";
    if (key.startsWith(`${this.key("command")}:`)) return "commands";
    return null;
  }

  private read(key: string): string | null {
    try {
      return this.storage.getItem(key);
    } catch {
      return null;
    }
  }

  private write(key: string, value: string): boolean {
    try {
      this.storage.setItem(key, value);
      return true;
    } catch {
      return false;
    }
  }

  private remove(key: string): void {
    try {
      this.storage.removeItem(key);
    } catch {
      // nothing to do
    }
  }

  private emit(change: Change, fromOtherTab: boolean): void {
    for (const listener of Array.from(this.listeners)) listener(change, fromOtherTab);
  }
}
