import type { Readable } from 'node:stream';
import { UsageError } from '../api/errors.js';

/** Inputs larger than this are refused before they are read whole (memory stays bounded). */
export const MAX_INPUT_BYTES = 25 * 1024 * 1024;

const SPLIT_HINT = 'split it into several adds (see --jsonl)';

function tooLarge(what: string, limit: number, hint: string): UsageError {
  const size = limit >= 1024 * 1024 ? `${limit / 1024 / 1024} MiB` : `${limit / 1024} KiB`;
  return new UsageError(`${what} is larger than ${size}`, hint);
}

export async function readAll(stream: Readable, what: string, limit = MAX_INPUT_BYTES, hint = SPLIT_HINT): Promise<Buffer> {
  // Standard input redirected from a file (`< big.json`) is refused by its size, unread.
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd === 'number') {
    const { fstatSync } = await import('node:fs');
    let st;
    try {
      st = fstatSync(fd);
    } catch {
      st = undefined;
    }
    if (st?.isFile() && st.size > limit) {
      stream.destroy();
      throw tooLarge(what, limit, hint);
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > limit) {
      stream.destroy();
      throw tooLarge(what, limit, hint);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export async function readAllText(stream: Readable, what: string): Promise<string> {
  return (await readAll(stream, what)).toString('utf8');
}
