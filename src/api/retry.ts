import type { HeaderBag } from './transport.js';
import type { Random } from '../core/clock.js';
import { APIError } from './errors.js';

/** Server-suggested delays above this are treated as absurd and ignored. */
export const MAX_SERVER_DELAY_MS = 5 * 60_000;

/**
 * The delay a server asks for: `retry-after-ms` first, then `Retry-After` (seconds or an
 * HTTP date). Negative, unparsable or absurd (over five minutes) values give undefined.
 */
export function serverRetryDelayMs(headers: HeaderBag, nowMs: number): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0 && v <= MAX_SERVER_DELAY_MS) return v;
  }
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  let v: number;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) v = Number(ra) * 1000;
  else {
    const at = Date.parse(ra);
    if (Number.isNaN(at)) return undefined;
    v = at - nowMs;
  }
  if (!Number.isFinite(v) || v < 0 || v > MAX_SERVER_DELAY_MS) return undefined;
  return v;
}

/**
 * Capped geometric backoff with jitter: base, base·f, base·f², … up to cap, each multiplied by
 * a random factor in [1 − jitter, 1 + jitter] (and never above cap·(1 + jitter)).
 */
export class Backoff {
  private step = 0;
  constructor(
    private readonly opts: { baseMs: number; factor: number; capMs: number; jitter: number; random: Random },
  ) {}

  next(): number {
    const { baseMs, factor, capMs, jitter, random } = this.opts;
    const raw = Math.min(capMs, baseMs * factor ** this.step);
    this.step++;
    const j = 1 + (random() * 2 - 1) * jitter;
    return Math.max(1, Math.round(raw * j));
  }

  reset(): void {
    this.step = 0;
  }
}

/** How long to wait before retrying after `err`: what the server asked for, else the next backoff step. */
export function retryDelayMs(err: unknown, backoff: Backoff, nowMs: number): number {
  return (err instanceof APIError ? serverRetryDelayMs(err.headers, nowMs) : undefined) ?? backoff.next();
}
