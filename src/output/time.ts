import { formatDuration } from '../cli/flags.js';
import { sanitize } from './sanitize.js';

/**
 * "2m ago (2026-12-03T10:00:01Z)" on a TTY; the server's RFC 3339 string otherwise. The
 * string comes from the server: it is sanitised like every other server string.
 */
export function formatTimestamp(iso: string | null | undefined, nowMs: number, tty: boolean): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (!tty || Number.isNaN(t)) return sanitize(iso);
  return `${relative(nowMs - t)} (${sanitize(iso)})`;
}

/** A table cell: "2m ago" on a TTY (the string itself when it is not a time); the RFC 3339 string otherwise. */
export function tableTimestamp(iso: string | null | undefined, nowMs: number, tty: boolean): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return !tty || Number.isNaN(t) ? sanitize(iso) : relative(nowMs - t);
}

export function relative(deltaMs: number): string {
  const future = deltaMs < 0;
  const d = Math.abs(deltaMs);
  let s: string;
  if (d < 5_000) return 'just now';
  if (d < 60_000) s = `${Math.floor(d / 1000)}s`;
  else if (d < 3_600_000) s = `${Math.floor(d / 60_000)}m`;
  else if (d < 86_400_000) s = `${Math.floor(d / 3_600_000)}h`;
  else s = `${Math.floor(d / 86_400_000)}d`;
  return future ? `in ${s}` : `${s} ago`;
}

/** Time between two RFC 3339 stamps, or '-' when either is missing. */
export function between(a: string | null | undefined, b: string | null | undefined): string {
  if (!a || !b) return '-';
  const d = Date.parse(b) - Date.parse(a);
  return Number.isNaN(d) ? '-' : formatDuration(d);
}
