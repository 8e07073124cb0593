import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Files that are either entirely the old content or entirely the new: written to a temp file
 * in the same directory (so the rename cannot cross file systems), fsync'd, renamed over the
 * final name, then the directory fsync'd. An interrupted write leaves the old file intact and
 * only a dot-temp file behind (which a failed write removes itself).
 */

export interface AtomicOptions {
  /** File mode, set when the temp file is created (never wider, not even for a moment). Default 0o644. */
  mode?: number;
  /** Create missing parent directories with this mode. */
  mkdirMode?: number;
}

let seq = 0;

/**
 * `.<name>.<pid>.<hex>.tmp`: unique per process by pid, within it by time and a counter (no
 * crypto: loading it would cost every command start-up time for a name).
 */
function tempName(file: string): string {
  const unique = `${Date.now().toString(16)}${(seq++).toString(16).padStart(4, '0')}`;
  return join(dirname(file), `.${basename(file)}.${process.pid}.${unique}.tmp`);
}

/** The names tempName gives FILE's temp files; group 1 is the writer's pid (to tell a dead writer's leftovers). */
export function tempNamePattern(file: string): RegExp {
  const base = basename(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${base}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
}

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  }
}

/** A file being written under a temp name; `commit()` renames it into place, `abort()` removes it. */
export class AtomicWriter {
  private done = false;
  private buffered: string[] = [];
  private bufferedBytes = 0;

  private constructor(
    readonly file: string,
    readonly tmp: string,
    private readonly fh: FileHandle,
  ) {}

  static async open(file: string, o: AtomicOptions = {}): Promise<AtomicWriter> {
    if (o.mkdirMode !== undefined) await mkdir(dirname(file), { recursive: true, mode: o.mkdirMode });
    const tmp = tempName(file);
    const mode = o.mode ?? 0o644;
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.chmod(mode); // exact, whatever the umask
    } catch {
      // best effort (e.g. file systems without modes)
    }
    return new AtomicWriter(file, tmp, fh);
  }

  /** Append text; small writes are batched. */
  async write(text: string): Promise<void> {
    this.buffered.push(text);
    this.bufferedBytes += text.length;
    if (this.bufferedBytes >= 64 * 1024) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buffered.length === 0) return;
    const chunk = this.buffered.join('');
    this.buffered = [];
    this.bufferedBytes = 0;
    const buf = Buffer.from(chunk, 'utf8');
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
  }

  /** Flush, fsync, close and rename over the final name. */
  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.flush();
      await this.fh.sync();
      await this.fh.close();
      await rename(this.tmp, this.file);
    } catch (err) {
      await this.fh.close().catch(() => {});
      await rm(this.tmp, { force: true });
      throw err;
    }
    await syncDir(dirname(this.file));
  }

  /** Drop the temp file; the final name is untouched. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close().catch(() => {});
    await rm(this.tmp, { force: true });
  }
}

/** Write `data` to `file` atomically (see AtomicWriter). */
export async function writeFileAtomic(file: string, data: string, o: AtomicOptions = {}): Promise<void> {
  const w = await AtomicWriter.open(file, o);
  try {
    await w.write(data);
  } catch (err) {
    await w.abort();
    throw err;
  }
  await w.commit();
}
