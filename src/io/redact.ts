import type { Writable } from 'node:stream';

/**
 * The API key never leaves through stdout or stderr, whoever wrote it: our messages, a debug
 * trace, or a server that echoes the key back in an error detail. Every secret the CLI learns
 * (from ENGRAM_API_KEY, --api-key-file, a profile, `auth login`) is registered here, and the
 * output streams replace each occurrence before the bytes go out.
 */

export const REDACTED = '[REDACTED]';

export class Secrets {
  private readonly list = new Set<string>();

  /** Register a secret; a value no longer than the `eng_` prefix is not worth hiding (and would mangle text). */
  add(secret: string | undefined): void {
    const s = secret?.trim();
    if (!s || s.length <= 4) return;
    this.list.add(s);
    // The part after `eng_` is the secret itself: hide it even when quoted without the prefix.
    if (s.startsWith('eng_') && s.length >= 12) this.list.add(s.slice(4));
  }

  get size(): number {
    return this.list.size;
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.list) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }

  scrubBytes(chunk: Uint8Array): Uint8Array {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (const s of this.list) if (buf.includes(s)) return Buffer.from(this.scrub(buf.toString('utf8')), 'utf8');
    return chunk;
  }
}

const REGISTRIES = Symbol.for('engram.redact.registries');

type Patched = Writable & { [REGISTRIES]?: Secrets[] };

/**
 * Make `stream.write` scrub `secrets` from everything written (strings and bytes). The write
 * function itself is replaced, below anything that hooks it later (ora wraps `write` to clear
 * its spinner line, and calls ours underneath), so no path around it exists.
 */
export function redactStream(stream: Writable, secrets: Secrets): void {
  const s = stream as Patched;
  const existing = s[REGISTRIES];
  if (existing) {
    if (!existing.includes(secrets)) existing.push(secrets);
    return;
  }
  const registries = [secrets];
  Object.defineProperty(s, REGISTRIES, { value: registries, enumerable: false });
  const original = s.write;
  const scrub = (chunk: unknown): unknown => {
    let c = chunk;
    for (const r of registries) {
      if (r.size === 0) continue;
      if (typeof c === 'string') c = r.scrub(c);
      else if (c instanceof Uint8Array) c = r.scrubBytes(c);
    }
    return c;
  };
  s.write = function (this: Writable, chunk: unknown, ...rest: unknown[]): boolean {
    return (original as (...a: unknown[]) => boolean).call(this, scrub(chunk), ...rest);
  } as Writable['write'];
}
