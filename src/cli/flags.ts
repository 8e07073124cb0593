import { UsageError } from '../api/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * `500ms`, `30s`, `5m`, `1h`, combinations like `1m30s`, or bare seconds (`90`, `1.5`).
 * Returns milliseconds. `flag` names the flag in the error.
 */
export function parseDuration(value: string, flag: string): number {
  const v = value.trim();
  const bad = () =>
    new UsageError(
      `invalid duration for ${flag}: ${JSON.stringify(value)}`,
      'use a number with a unit: 500ms, 30s, 5m, 1h (or bare seconds)',
    );
  if (v === '') throw bad();
  if (/^\d+(\.\d+)?$/.test(v)) return checkRange(Number(v) * 1000, value, flag);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(v)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== v.length || pos === 0) throw bad();
  return checkRange(total, value, flag);
}

/** Whole milliseconds, rounded up: only an exact 0 means zero (`--timeout 0` = no limit), never 0.4ms. */
function checkRange(exact: number, value: string, flag: string): number {
  const ms = Math.max(0, Math.ceil(exact - 1e-6)); // 1.1 * 1000 is 1100.0000000000002, still 1100
  if (!Number.isFinite(ms) || ms > 365 * 24 * 3_600_000) {
    throw new UsageError(`duration for ${flag} is too long: ${JSON.stringify(value)}`, 'use at most 8760h');
  }
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

export function parseIntInRange(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${flag} must be from ${min} to ${max}, got ${n}`);
  return n;
}

/**
 * The server decides what an id looks like; we only refuse what can't be one path segment
 * safely: empty, `.`/`..`, whitespace or control characters. Everything else is encoded.
 */
export function validateId(id: string, what = 'id'): string {
  if (id === '') throw new UsageError(`empty ${what}`, `pass the ${what} as printed by engram`);
  if (id === '.' || id === '..') throw new UsageError(`invalid ${what} ${JSON.stringify(id)}`);
  // A lone UTF-16 surrogate cannot be encoded into a URL (nor come from a terminal).
  if (/[\ud800-\udfff]/u.test(id)) throw new UsageError(`invalid ${what}: it contains a lone UTF-16 surrogate`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(id)) {
    throw new UsageError(
      `invalid ${what} ${JSON.stringify(id)}: it contains whitespace or control characters`,
      'check for stray spaces or line breaks from copy and paste',
    );
  }
  return id;
}

/** `--property k=v`, repeatable. */
export function parseProperties(pairs: string[] | undefined, flag = '--property'): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  // Own keys only: `toString=x` or `__proto__=x` are property names like any other.
  const seen = new Map<string, string>();
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`invalid ${flag} ${JSON.stringify(p)}`, `use ${flag} key=value`);
    const k = p.slice(0, i);
    if (seen.has(k) && seen.get(k) !== p.slice(i + 1)) throw new UsageError(`${flag} ${k} given twice with different values`);
    seen.set(k, p.slice(i + 1));
  }
  return Object.fromEntries(seen);
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
