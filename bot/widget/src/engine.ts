// The tab that holds the connection (one per browser, see leader.ts) runs the
// engine: it talks to Frontline's socket.io channel (bot/engine/channel.py), writes
// what arrives into the store and sends what the customer wrote, in order and
// exactly once: every message has a client message_id, stays "pending" until
// the server acknowledges it (accepted or duplicate), and is sent again with
// the same id after a reconnect; the server drops a repeated id.
//
// The server confirms a session with its resume token, which the store keeps
// next to the session id: only a session_request with both resumes the
// conversation (the server gives anyone else a new session), so a session id
// seen elsewhere does not open it.
//
// After each session_confirm it asks for the session's history first (the
// server's copy from Rasa's tracker, with what arrived while no tab was open)
// and merges it into the store (history.ts); only then is it "online" and
// sends what is pending. Other tabs see the result through the store.

import { io, type Socket } from "socket.io-client";
import type { WidgetConfig } from "./config";
import { randomId } from "./dom";
import { historyOf, mergeHistory } from "./history";
import type { Ack, Command, Entry, UserEntry } from "./messages";
import { botMessage, isRecord } from "./messages";
import type { Store } from "./store";

export const ACK_TIMEOUT_MS = 60000;
export const RETRY_MS = 5000;
export const HISTORY_TIMEOUT_MS = 10000;

export interface SocketLike {
  connected: boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  connect(): unknown;
  disconnect(): unknown;
  io: {
    on(event: string, listener: (...args: unknown[]) => void): unknown;
    engine?: { close(): void };
  };
}

export type SocketFactory = (config: WidgetConfig) => SocketLike;

export const socketIo: SocketFactory = (config) =>
  io(config.serverUrl as string, {
    path: config.socketPath,
    transports: ["websocket", "polling"],
    tryAllTransports: true, // behind a proxy that blocks WebSockets, long-polling
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 10000,
  }) as Socket as unknown as SocketLike;

export class Engine {
  private socket: SocketLike | null = null;
  private confirmed: string | null = null; // the session the server confirmed on this socket
  private ready = false; // the history for this confirmation is in the store
  private confirmation = 0; // counts confirmations: an answer for an older one is dropped
  private flushing = false;
  private retryTimer: number | null = null;
  private unsubscribe: (() => void) | null = null;
  private listeners: Array<[string, EventListener]> = [];

  constructor(
    private readonly store: Store,
    private readonly config: WidgetConfig,
    private readonly crossTab: boolean,
    private readonly socketFactory: SocketFactory = socketIo,
  ) {}

  start(): void {
    this.unsubscribe = this.store.subscribe((change, fromOtherTab) => {
      if (change === "commands" && (this.crossTab || !fromOtherTab)) this.runCommands();
    });
    this.store.setLive({
      connection: this.config.serverUrl ? "connecting" : "none",
      waiting: false,
    });
    this.runCommands();
    if (this.config.serverUrl) this.connect();
  }

  stop(): void {
    this.unsubscribe?.();
    for (const [event, listener] of this.listeners) window.removeEventListener(event, listener);
    if (this.retryTimer !== null) window.clearTimeout(this.retryTimer);
    this.socket?.disconnect();
    this.socket = null;
  }

  /** A bot message as if it had come from the server (FrontlineWidget.receive). */
  receive(message: unknown): void {
    const parsed = botMessage(message);
    if (parsed === null) return;
    this.store.append({ id: randomId(), from: "bot", ts: Date.now(), message: parsed });
  }

  private connect(): void {
    const socket = this.socketFactory(this.config);
    this.socket = socket;
    socket.on("connect", () => {
      this.confirmed = null;
      this.store.setLive({ connection: "connecting" });
      const request: Record<string, string | null> = { session_id: this.store.session() };
      const token = this.store.resumeToken();
      if (token !== null) request.resume_token = token;
      socket.emit("session_request", request);
    });
    // "<session id>", {"resume_token", "resumed"} (a server without tokens
    // sends only the id)
    socket.on("session_confirm", (id: unknown, extra: unknown) => {
      if (typeof id !== "string") return;
      const token =
        isRecord(extra) && typeof extra.resume_token === "string" ? extra.resume_token : null;
      this.confirm(id, token);
    });
    socket.on("bot_uttered", (message: unknown) => {
      if (this.confirmed !== null) this.receive(message);
    });
    socket.on("disconnect", () => {
      this.confirmed = null;
      this.store.setLive({ connection: navigator.onLine ? "connecting" : "offline" });
    });
    socket.on("connect_error", () => {
      this.store.setLive({ connection: "offline" });
    });
    // The browser knows about a lost network long before a socket's heartbeat
    // does: drop the connection at once and come back as soon as it returns.
    this.listen("offline", () => {
      this.store.setLive({ connection: "offline" });
      socket.io.engine?.close();
    });
    this.listen("online", () => {
      if (!socket.connected) {
        socket.disconnect();
        socket.connect();
      }
    });
  }

  private listen(event: string, listener: () => void): void {
    window.addEventListener(event, listener);
    this.listeners.push([event, listener]);
  }

  private confirm(id: string, token: string | null): void {
    const stored = this.store.session();
    if (stored !== id) {
      // A conversation the server did not resume: keep only what is unsent.
      if (stored !== null) {
        this.store.setEntries(
          this.store
            .entries()
            .filter((entry) => entry.from === "user" && entry.status === "pending"),
        );
      }
      this.store.setSession(id, token);
    } else if (token !== null && token !== this.store.resumeToken()) {
      this.store.setSession(id, token);
    }
    this.confirmed = id;
    this.ready = false;
    this.confirmation += 1;
    void this.loadHistory(id, this.confirmation);
  }

  /** Merges the server's history of ``session`` into the store, then sends what is pending. */
  private async loadHistory(session: string, confirmation: number): Promise<void> {
    const socket = this.socket;
    if (socket === null) return;
    const before = new Set(this.store.entries().map((entry) => entry.id));
    let ack: unknown = null;
    try {
      ack = await socket
        .timeout(HISTORY_TIMEOUT_MS)
        .emitWithAck("history_request", { session_id: session });
    } catch {
      // no answer: what this browser has is shown and the conversation goes on
    }
    if (confirmation !== this.confirmation || this.confirmed !== session) return;
    const history = historyOf(ack);
    if (history !== null) {
      this.store.setEntries(mergeHistory(history, this.store.entries(), before));
    }
    this.ready = true;
    this.store.setLive({ connection: "online" });
    void this.flush();
  }

  private runCommands(): void {
    for (const command of this.store.takeCommands()) this.apply(command);
  }

  private apply(command: Command): void {
    if (command.kind === "send") {
      const entry: UserEntry = {
        id: command.id,
        from: "user",
        ts: command.ts,
        text: command.text,
        status: "pending",
      };
      if (command.payload !== undefined && command.payload !== command.text) {
        entry.payload = command.payload;
      }
      this.store.append(entry);
      void this.flush();
    } else if (command.kind === "retry") {
      this.store.updateEntry(command.entry, { status: "pending" });
      void this.flush();
    } else if (command.kind === "reset") {
      this.store.setEntries([]);
      this.store.setSession(null);
      this.confirmed = null;
      if (this.socket !== null) {
        // a new socket: the old one is still in the old session's room
        this.socket.disconnect();
        this.socket.connect();
      }
    }
  }

  private nextPending(): UserEntry | null {
    const entry = this.store
      .entries()
      .find((candidate: Entry) => candidate.from === "user" && candidate.status === "pending");
    return (entry as UserEntry | undefined) ?? null;
  }

  /** Sends the pending messages one at a time, oldest first. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (;;) {
        const socket = this.socket;
        const session = this.confirmed;
        const entry = this.nextPending();
        if (socket === null || session === null || !this.ready || !socket.connected) break;
        if (entry === null) break;
        this.store.setLive({ waiting: true });
        let ack: unknown;
        try {
          ack = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("user_uttered", {
            session_id: session,
            message: entry.payload ?? entry.text,
            message_id: entry.id,
            metadata: { language: this.config.language },
          });
        } catch {
          // no acknowledgement (disconnected or too slow): still pending, sent
          // again with the same id on the next connection or retry
          this.scheduleRetry();
          break;
        }
        const status = isRecord(ack) ? (ack as Ack).status : undefined;
        if (status === "accepted" || status === "duplicate") {
          this.store.updateEntry(entry.id, { status: "sent" });
        } else {
          this.store.updateEntry(entry.id, { status: "failed" });
        }
      }
    } finally {
      this.flushing = false;
      this.store.setLive({ waiting: false });
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = window.setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, RETRY_MS);
  }
}
