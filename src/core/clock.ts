/**
 * Every delay and timestamp in the CLI and the emulator goes through a Clock, so that
 * waits, retries and deadlines can run in virtual time in tests and benchmarks.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolve after `ms` milliseconds, or reject with the signal's reason when it aborts.
   * `opts.releasesHold` marks a sleep taken while serving a held request (the emulator's
   * delay fault): a virtual clock must not count that request as busy during the sleep.
   */
  sleep(ms: number, signal?: AbortSignal, opts?: { releasesHold?: boolean }): Promise<void>;
  /**
   * Mark `work` (a network round trip) as in flight. A virtual clock does not advance time
   * while held work is pending; the real clock just returns it.
   */
  hold<T>(work: Promise<T>): Promise<T>;
}

export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError(signal!));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
  hold: (work) => work,
};

/** A source of uniform numbers in [0, 1), injected so jitter is reproducible. */
export type Random = () => number;

/** Mulberry32: a tiny seeded PRNG for tests and benchmarks. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
