import type { Readable } from 'node:stream';
import { UsageError, UserAbortError } from '../api/errors.js';
import { errnoCode } from './errno.js';

/** Inputs larger than this are refused before they are read whole (memory stays bounded). */
export const MAX_INPUT_BYTES = 25 * 1024 * 1024;

const SPLIT_HINT = 'split it into several adds (see --jsonl)';

/** A limit as people write it: `25 MiB`, `64 KiB`. */
function limitText(limit: number): string {
  return limit >= 1024 * 1024 ? `${limit / 1024 / 1024} MiB` : `${limit / 1024} KiB`;
}

function tooLarge(what: string, limit: number, hint: string): UsageError {
  return new UsageError(`${what} is larger than ${limitText(limit)}`, hint);
}

export async function readAll(stream: Readable, what: string, limit = MAX_INPUT_BYTES, hint = SPLIT_HINT, signal?: AbortSignal): Promise<Buffer> {
  // Ctrl-C while we wait on a terminal or a slow pipe stops the read at once.
  const onAbort = () => stream.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await readAllUnsignalled(stream, what, limit, hint);
  } catch (err) {
    if (signal?.aborted) throw UserAbortError.from(signal);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function readAllUnsignalled(stream: Readable, what: string, limit: number, hint: string): Promise<Buffer> {
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

const FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
};

/** What went wrong with a file, in words ("no such file"), for one-line errors. */
export function fsErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return (code && FS_ERRORS[code]) ?? errnoCode(err);
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * A file the user named with `flag`, read whole: a missing file, a directory or a file over
 * `limit` is a one-line UsageError naming the flag and the path. A regular file's size is
 * checked before anything is read; a device or FIFO stops at the limit.
 */
export async function readNamedFile(path: string, flag: string, limit = MAX_INPUT_BYTES, hint = SPLIT_HINT): Promise<Buffer> {
  const { open } = await import('node:fs/promises');
  const cannot = (err: unknown) => new UsageError(`cannot read ${flag} ${path}: ${fsErrorText(err)}`);
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw cannot(err);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw cannot({ code: 'EISDIR' });
    if (st.isFile() && st.size > limit) {
      throw new UsageError(`${flag} ${path} is ${mib(st.size)}, over the ${limitText(limit)} limit`, hint);
    }
    return await readAll(fh.createReadStream({ autoClose: false }), `${flag} ${path}`, limit, hint);
  } catch (err) {
    throw err instanceof UsageError ? err : cannot(err);
  } finally {
    await fh.close();
  }
}
