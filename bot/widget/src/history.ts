// The conversation as the server keeps it (the channel's history_request, from
// Rasa's tracker) merged into what this browser keeps. The server's list is the
// truth for what was said and in which order: it brings what arrived while no
// tab was open. What only this browser knows survives: the title of a button
// the customer clicked (the server has its payload; matched by message_id), the
// messages not sent yet, and those the server refused (they can be retried).
// Entries the browser already has keep their ids, so the log keeps their nodes
// and nothing is announced twice.

import { randomId } from "./dom";
import type { Entry } from "./messages";
import { botMessage, isRecord } from "./messages";

/** The messages of a ``history_request`` acknowledgement, or null if it is not ``ok``. */
export function historyOf(ack: unknown): Entry[] | null {
  if (!isRecord(ack) || ack.status !== "ok" || !Array.isArray(ack.messages)) return null;
  const entries: Entry[] = [];
  for (const item of ack.messages) {
    if (!isRecord(item)) continue;
    const ts = typeof item.ts === "number" && isFinite(item.ts) ? item.ts * 1000 : Date.now();
    if (item.from === "user" && typeof item.text === "string") {
      const id = typeof item.message_id === "string" && item.message_id ? item.message_id : "";
      entries.push({ id, from: "user", ts, text: item.text, status: "sent" });
    } else if (item.from === "bot") {
      const message = botMessage(item.message);
      if (message !== null) entries.push({ id: "", from: "bot", ts, message });
    }
  }
  return entries;
}

/** JSON with the keys of every object sorted: equal messages give equal strings. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    isRecord(inner)
      ? Object.fromEntries(
          Object.keys(inner)
            .sort()
            .map((key) => [key, inner[key]]),
        )
      : inner,
  );
}

/**
 * The stored conversation after the server's ``history`` (from ``historyOf``):
 * the server's messages in its order, then the bot messages that arrived while
 * the request was out (not in ``before``, the ids stored when it was sent) and
 * the customer's pending messages. A failed message stays after the entry it
 * followed. Local entries the server does not have are dropped otherwise. An
 * empty history changes nothing (the server lost the conversation or never had
 * it: what the customer saw stays).
 */
export function mergeHistory(history: Entry[], local: Entry[], before: Set<string>): Entry[] {
  if (history.length === 0) return local;
  const mine = new Map(local.map((entry, index) => [entry.id, index]));
  const keys = local.map((entry) => (entry.from === "bot" ? canonical(entry.message) : null));
  const matched = new Set<string>();
  const merged: Entry[] = [];
  let next = 0; // bot messages are matched by content, in order
  for (const entry of history) {
    if (entry.from === "user") {
      const index = entry.id ? mine.get(entry.id) : undefined;
      const own = index === undefined ? null : local[index];
      if (own !== null && own.from === "user" && !matched.has(own.id)) {
        matched.add(own.id);
        merged.push(own.status === "sent" ? own : { ...own, status: "sent" });
      } else {
        // unseen here, or the same id twice (resent after a server restart)
        const id =
          entry.id && !mine.has(entry.id) && !matched.has(entry.id) ? entry.id : randomId();
        matched.add(id);
        merged.push({ ...entry, id });
      }
      continue;
    }
    const key = canonical(entry.message);
    let found = -1;
    for (let index = next; index < local.length && found < 0; index += 1) {
      if (keys[index] === key) found = index;
    }
    if (found >= 0) {
      matched.add(local[found].id);
      merged.push(local[found]);
      next = found + 1;
    } else {
      merged.push({ ...entry, id: randomId() });
    }
  }

  // what only this browser has
  const position = new Map(merged.map((entry, index) => [entry.id, index]));
  const after = new Map<number, Entry[]>(); // merged index -> failed messages that follow it
  const arrived: Entry[] = [];
  const pending: Entry[] = [];
  let anchor = -1;
  for (const entry of local) {
    if (matched.has(entry.id)) {
      anchor = position.get(entry.id) ?? anchor;
    } else if (entry.from === "user" && entry.status === "pending") {
      pending.push(entry);
    } else if (entry.from === "user" && entry.status === "failed") {
      after.set(anchor, (after.get(anchor) || []).concat([entry]));
    } else if (entry.from === "bot" && !before.has(entry.id)) {
      arrived.push(entry);
    }
  }
  const result: Entry[] = after.get(-1) || [];
  merged.forEach((entry, index) => {
    result.push(entry, ...(after.get(index) || []));
  });
  return result.concat(arrived, pending);
}
