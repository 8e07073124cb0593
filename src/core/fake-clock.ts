import { abortError, type Clock } from './clock.js';

interface Sleeper {
  wake: number;
  seq: number;
  resolve: () => void;
}

/**
 * A virtual clock that advances on its own: whenever nothing is in flight (no held work)
 * and someone sleeps, time jumps to the earliest wake-up. Waits of minutes run in
 * milliseconds and in a deterministic order, while real HTTP still flows between the CLI and
 * an emulator sharing this clock.
 */
export class FakeClock implements Clock {
  private t: number;
  private busy = 0;
  private seq = 0;
  private sleepers: Sleeper[] = [];
  private scheduled = false;
  /** Total virtual milliseconds slept through, for assertions ("the wait took ≈ the deadline"). */
  readonly start: number;

  constructor(startMs = Date.parse('2026-12-03T10:00:00Z')) {
    this.t = startMs;
    this.start = startMs;
  }

  now(): number {
    return this.t;
  }

  elapsed(): number {
    return this.t - this.start;
  }

  /** Move time forward by hand (tests that poke the emulator between commands). */
  advance(ms: number): void {
    this.t += ms;
    this.wakeDue();
  }

  sleep(ms: number, signal?: AbortSignal, opts?: { releasesHold?: boolean }): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const releases = opts?.releasesHold === true;
    if (releases) this.busy--;
    const done = new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = { wake: this.t + Math.max(0, ms), seq: this.seq++, resolve: () => resolve() };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(abortError(signal!));
        this.schedule();
      };
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    this.schedule();
    if (!releases) return done;
    return done.finally(() => {
      this.busy++;
    });
  }

  hold<T>(work: Promise<T>): Promise<T> {
    this.busy++;
    return work.finally(() => {
      this.busy--;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Let every continuation that is already runnable (microtasks, I/O callbacks that are
    // ready) run before deciding the system is idle.
    setImmediate(() =>
      setImmediate(() => {
        this.scheduled = false;
        this.tick();
      }),
    );
  }

  private tick(): void {
    if (this.busy > 0 || this.sleepers.length === 0) return;
    let next = this.sleepers[0]!;
    for (const s of this.sleepers) if (s.wake < next.wake || (s.wake === next.wake && s.seq < next.seq)) next = s;
    if (next.wake > this.t) this.t = next.wake;
    this.wakeDue();
  }

  private wakeDue(): void {
    const due = this.sleepers.filter((s) => s.wake <= this.t).sort((a, b) => a.wake - b.wake || a.seq - b.seq);
    if (due.length === 0) return;
    this.sleepers = this.sleepers.filter((s) => s.wake > this.t);
    for (const s of due) s.resolve();
    this.schedule();
  }
}
