import { formatDuration } from '../cli/flags.js';

/** "2m ago (2026-12-03T10:00:01Z)" on a TTY; the server's RFC 3339 string otherwise. */
export function formatTimestamp(iso: string | null | undefined, nowMs: number, tty: boolean): string {
  if (!iso) return '-';
  if (!tty) return iso;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${relative(nowMs - t)} (${iso})`;
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
