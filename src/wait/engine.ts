import { setMaxListeners } from 'node:events';
import { APIError, EngramError, MalformedResponseError, NotFoundError, UserAbortError } from '../api/errors.js';
import { isRetryable } from '../api/client.js';
import { Backoff, retryDelayMs } from '../api/retry.js';
import { KNOWN_STATUSES, type Run } from '../api/types.js';
import { ExitCode } from '../cli/exit-codes.js';
import type { Clock, Random } from '../core/clock.js';
import { limiter } from './limit.js';

export type Until = 'completed' | 'in_buffer';

export type Outcome =
  | 'completed'
  | 'failed'
  | 'in_buffer'
  | 'timeout'
  | 'unavailable'
  | 'not_found'
  | 'error'
  | 'cancelled'
  | 'interrupted';

export interface RunResult {
  run_id: string;
  outcome: Outcome;
  /** The last run document seen, if any. */
  run: Run | undefined;
  lastStatus: string | null;
  /** When (clock ms) the last status was first seen. */
  statusSince: number;
  elapsedMs: number;
  polls: number;
  error: EngramError | undefined;
}

export interface StatusEvent {
  run_id: string;
  status: string;
  previous_status: string | null;
  at: string;
  elapsed_ms: number;
}

interface RunState {
  status: string | null;
  done: boolean;
  run: Run | undefined;
  statusSince: number;
  polls: number;
}

export interface Summary {
  total: number;
  done: number;
  failed: number;
  byStatus: Map<string, number>;
  elapsedMs: number;
}

export interface WaitListener {
  onStatus?(ev: StatusEvent, run: Run): void;
  /** Announced once per kind of trouble (e.g. "502", "ECONNREFUSED"), across all runs. */
  onRetry?(message: string): void;
  onWarning?(message: string): void;
  onResult?(r: RunResult): void;
}

export interface WaitOptions {
  ids: string[];
  fetchRun(id: string, signal: AbortSignal, timeoutMs: number): Promise<Run>;
  clock: Clock;
  random: Random;
  /** One deadline for the whole command; 0 = none. */
  timeoutMs: number;
  /** Longest gap between polls of one run. */
  intervalMs: number;
  requestTimeoutMs: number;
  until: Until;
  failFast: boolean;
  /** Requests in flight at once, across all runs. */
  concurrency: number;
  /** Just after `memories add`, a 404 is retried for this long (eventual consistency). */
  notFoundGraceMs: number;
  signal: AbortSignal;
  listener?: WaitListener;
  /** First poll delay after the immediate one, and growth per poll. */
  firstDelayMs?: number;
  growth?: number;
}

export const DEFAULT_FIRST_DELAY_MS = 250;
export const DEFAULT_GROWTH = 1.45;
const JITTER = 0.1;

export function exitCodeFor(outcome: Outcome, error?: EngramError): ExitCode {
  switch (outcome) {
    case 'completed':
    case 'in_buffer':
      return ExitCode.OK;
    case 'failed':
      return ExitCode.RUN_FAILED;
    case 'timeout':
    case 'cancelled':
      return ExitCode.TIMEOUT;
    case 'unavailable':
      return ExitCode.UNAVAILABLE;
    case 'not_found':
      return ExitCode.NOT_FOUND;
    case 'error':
    case 'interrupted':
      return error?.exitCode ?? (outcome === 'interrupted' ? ExitCode.SIGINT : ExitCode.UNEXPECTED);
  }
}

/** A short name for a kind of trouble, so each is announced once. */
function troubleKind(err: unknown): string {
  if (err instanceof APIError) return `http-${err.status}`;
  if (err instanceof MalformedResponseError) return `malformed:${err.message}`;
  if (err instanceof EngramError) return `${err.name}:${(err as { code?: string }).code ?? ''}`;
  return 'unknown';
}

function describe(err: unknown): string {
  return (err as Error).message;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * Poll every run until it is terminal (or parked in a buffer with --until in_buffer), the
 * deadline passes, or the user aborts. Transient trouble is retried within the deadline;
 * only the deadline ends a wait. Pure logic over an injected clock, randomness and fetcher.
 */
export class WaitEngine {
  private readonly results = new Map<string, RunResult>();
  /** Live state per run: what progress and an interrupted wait's report need. */
  private readonly state = new Map<string, RunState>();
  private readonly announced = new Set<string>();
  private readonly warnedStatuses = new Set<string>();
  private readonly stop = new AbortController();
  readonly startedAt: number;
  readonly deadline: number;

  constructor(private readonly o: WaitOptions) {
    this.startedAt = o.clock.now();
    this.deadline = o.timeoutMs > 0 ? this.startedAt + o.timeoutMs : Infinity;
  }

  /** Counts for progress: finished runs, failed ones among them, the rest by last status. */
  summary(): Summary {
    const byStatus = new Map<string, number>();
    let done = 0;
    let failed = 0;
    for (const s of this.state.values()) {
      if (s.done) {
        done++;
        if (s.status === 'failed') failed++;
        continue;
      }
      const key = s.status ?? 'waiting';
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    }
    return { total: this.state.size, done, failed, byStatus, elapsedMs: this.o.clock.now() - this.startedAt };
  }

  /** Every run in argument order: finished ones as they ended, the rest with `outcome`. */
  snapshot(outcome: Outcome, error?: EngramError): RunResult[] {
    return [...this.state.entries()].map(([id, st]) => this.results.get(id) ?? this.resultOf(id, st, outcome, error));
  }

  /** A run's result as of now, from its live state. */
  private resultOf(id: string, st: RunState, outcome: Outcome, error: EngramError | undefined): RunResult {
    return {
      run_id: id,
      outcome,
      run: st.run,
      lastStatus: st.status,
      statusSince: st.statusSince,
      elapsedMs: this.o.clock.now() - this.startedAt,
      polls: st.polls,
      error,
    };
  }

  /** Results in argument order. Throws UserAbortError on Ctrl-C / SIGTERM. */
  async run(): Promise<RunResult[]> {
    const unique = [...new Set(this.o.ids)];
    for (const id of unique) this.state.set(id, { status: null, done: false, run: undefined, statusSince: this.startedAt, polls: 0 });
    const limit = limiter(Math.max(1, this.o.concurrency));
    const signal = AbortSignal.any([this.o.signal, this.stop.signal]);
    // Each waited run sleeps on this signal (and each request in flight listens to it): one
    // listener per run is expected, and each is removed when its sleep or request ends.
    setMaxListeners(0, signal);
    await Promise.all(unique.map((id) => this.waitOne(id, limit, signal)));
    if (this.o.signal.aborted) throw UserAbortError.from(this.o.signal);
    return unique.map((id) => this.results.get(id)!);
  }

  private announce(kind: string, message: string): void {
    if (this.announced.has(kind)) return;
    this.announced.add(kind);
    this.o.listener?.onRetry?.(message);
  }

  private async waitOne(
    id: string,
    limit: <T>(t: () => Promise<T>) => Promise<T>,
    signal: AbortSignal,
  ): Promise<void> {
    const { clock } = this.o;
    const cap = Math.max(1, this.o.intervalMs);
    const polls = new Backoff({
      baseMs: Math.min(this.o.firstDelayMs ?? DEFAULT_FIRST_DELAY_MS, cap),
      factor: this.o.growth ?? DEFAULT_GROWTH,
      capMs: cap,
      jitter: JITTER,
      random: this.o.random,
    });
    const retries = new Backoff({ baseMs: 500, factor: 2, capMs: Math.max(cap, 5000), jitter: 0.25, random: this.o.random });
    const st = this.state.get(id)!;
    let answered = false;
    let lastError: EngramError | undefined;
    let finalPoll = false;

    const finish = (outcome: Outcome, error?: EngramError) => {
      st.done = true;
      const r = this.resultOf(id, st, outcome, error);
      this.results.set(id, r);
      this.o.listener?.onResult?.(r);
      if (outcome === 'failed' && this.o.failFast) this.stop.abort();
    };

    for (;;) {
      if (signal.aborted) return finish('cancelled');
      const remaining = this.deadline - clock.now();
      const reqTimeout = Math.min(this.o.requestTimeoutMs, Math.max(remaining, 2000));
      let delay: number;
      try {
        st.polls++;
        const got = await limit(() => {
          if (signal.aborted) throw UserAbortError.from(this.o.signal, signal);
          return this.o.fetchRun(id, signal, reqTimeout);
        });
        st.run = got;
        answered = true;
        retries.reset();
        if (got.status !== st.status) {
          const ev: StatusEvent = {
            run_id: id,
            status: got.status,
            previous_status: st.status,
            at: new Date(clock.now()).toISOString(),
            elapsed_ms: clock.now() - this.startedAt,
          };
          st.status = got.status;
          st.statusSince = clock.now();
          this.o.listener?.onStatus?.(ev, got);
        }
        if (!KNOWN_STATUSES.has(got.status) && !this.warnedStatuses.has(got.status)) {
          this.warnedStatuses.add(got.status);
          this.o.listener?.onWarning?.(`unknown run status ${JSON.stringify(got.status)}: not treated as finished, still waiting`);
        }
        if (got.status === 'completed') return finish('completed');
        if (got.status === 'failed') return finish('failed');
        if (this.o.until === 'in_buffer' && got.status === 'in_buffer') return finish('in_buffer');
        delay = polls.next();
      } catch (err) {
        if (signal.aborted) return finish('cancelled'); // the user's signal or --fail-fast (signal covers both)
        const e = err instanceof EngramError ? err : undefined;
        if (err instanceof NotFoundError) {
          if (!answered && clock.now() - this.startedAt < this.o.notFoundGraceMs) {
            lastError = err;
            delay = polls.next();
            this.announce('grace-404', `run ${id} not found yet, retrying for up to ${seconds(this.o.notFoundGraceMs)}`);
          } else {
            return finish('not_found', err);
          }
        } else if (isRetryable(err)) {
          lastError = e;
          delay = retryDelayMs(err, retries, clock.now());
          this.announce(troubleKind(err), `poll failed: ${describe(err)}, retrying in ${seconds(delay)}`);
        } else {
          return finish('error', e ?? new EngramError(String(err)));
        }
      }
      if (finalPoll) return finish(answered ? 'timeout' : 'unavailable', answered ? undefined : lastError);
      const now = clock.now();
      if (now + delay >= this.deadline) {
        delay = Math.max(0, this.deadline - now);
        finalPoll = true;
      }
      try {
        await clock.sleep(delay, signal);
      } catch {
        return finish('cancelled');
      }
    }
  }
}
