// One tab per browser holds the connection (the leader); the others show the
// shared store and pass their commands to it. The Web Locks API elects it: the
// lock is held for as long as the tab lives, and when the tab goes the next
// waiting tab gets it. Without the API (older browsers, pages not served over
// HTTPS) every tab leads for itself.

interface LockManagerLike {
  request(
    name: string,
    options: { signal: AbortSignal },
    callback: () => Promise<void>,
  ): Promise<unknown>;
}

export interface Leadership {
  /** True when tabs share one connection (the Web Locks API is there). */
  shared: boolean;
  release(): void;
}

/** Calls ``lead`` once this tab becomes the leader; ``lead`` returns its own stop. */
export function elect(name: string, lead: () => () => void): Leadership {
  const locks = (navigator as Navigator & { locks?: LockManagerLike }).locks;
  if (!locks || typeof locks.request !== "function" || typeof AbortController === "undefined") {
    const stop = lead();
    return { shared: false, release: stop };
  }
  const abort = new AbortController();
  let stop: (() => void) | null = null;
  let released = false;
  let free: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    free = resolve;
  });
  locks
    .request(name, { signal: abort.signal }, () => {
      if (released) return Promise.resolve();
      stop = lead();
      return held;
    })
    .catch(() => undefined); // aborted before it was granted
  return {
    shared: true,
    release: () => {
      released = true;
      abort.abort();
      if (stop !== null) stop();
      free();
    },
  };
}
