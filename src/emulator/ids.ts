import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** Identifiers the emulator hands out: UUIDv7 for runs, name-based UUIDs for stable ids, v4 otherwise. */

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUUID(value: string): boolean {
  return UUID_RE.test(value);
}

function format(b: Uint8Array): string {
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** RFC 9562 version 7: 48-bit Unix milliseconds, then random bits. */
export function uuidv7(ms: number): string {
  const b = randomBytes(16);
  let t = Math.max(0, Math.floor(ms));
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return format(b);
}

/** The Unix milliseconds stored in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/** A deterministic, version-5-shaped UUID of the given parts: same parts, same id. */
export function nameUUID(...parts: string[]): string {
  const b = createHash('sha1').update(parts.join('\u0000')).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return format(b);
}

export function randomId(): string {
  return randomUUID();
}

/** The project an API key selects, without keeping the key itself anywhere. */
export function keyDigest(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}
