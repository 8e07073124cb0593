import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The local run history behind `engram runs list` (the API cannot list runs).
 *
 * One JSON object per line in `$XDG_STATE_HOME/engram/history.jsonl`. Every record is written
 * with a single `appendFile` (O_APPEND) of one line well under 4 KiB, so concurrent CLI
 * processes never interleave inside a record on a local file system. The reader skips a line
 * that does not parse (a torn write after a crash) and says so.
 */

export interface HistoryRecord {
  v: 1;
  run_id: string;
  base_url: string;
  profile: string;
  input_type: string;
  user_id?: string;
  group?: string;
  /** When this CLI submitted it (RFC 3339, the CLI's clock). */
  submitted_at: string;
  /** Where the content came from, e.g. `data.jsonl:17`. */
  source?: string;
}

/** Records stay far below PIPE_BUF-sized writes so appends are never torn by concurrency. */
export const MAX_RECORD_BYTES = 2048;
const MAX_FIELD = 256;

function clip(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  return s.length > MAX_FIELD ? s.slice(0, MAX_FIELD - 1) + '…' : s;
}

/** One line of JSON for the record, shortened so it stays under MAX_RECORD_BYTES. */
export function recordLine(r: HistoryRecord): string {
  const rec: HistoryRecord = { ...r, user_id: clip(r.user_id), group: clip(r.group), source: clip(r.source), profile: clip(r.profile)! };
  let line = JSON.stringify(rec);
  if (Buffer.byteLength(line) > MAX_RECORD_BYTES) {
    const { source: _s, user_id: _u, group: _g, ...rest } = rec;
    line = JSON.stringify(rest);
  }
  return line + '\n';
}

/** Append records (each with its own O_APPEND write). Throws on I/O errors: callers warn. */
export async function appendHistory(path: string, records: HistoryRecord[], opts: { continuing?: boolean } = {}): Promise<void> {
  if (records.length === 0) return;
  if (!opts.continuing) await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // A line torn by a crash has no newline: start on a fresh line, or our record would be
  // glued to it and lost with it. (Two writers may both add one: a blank line is skipped.)
  // Checked on a process's first append; after that the file ends with our own newline.
  const lead = opts.continuing || (await endsWithNewline(path)) ? '' : '\n';
  for (const [i, r] of records.entries()) await appendFile(path, (i === 0 ? lead : '') + recordLine(r), { flag: 'a', mode: 0o600 });
}

async function endsWithNewline(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return true; // no file yet
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    await fh.close();
  }
}

export interface HistoryRead {
  records: HistoryRecord[];
  /** 1-based line numbers that were not a valid record. */
  skipped: number[];
  exists: boolean;
}

function valid(v: unknown): v is HistoryRecord {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.run_id === 'string' &&
    r.run_id !== '' &&
    typeof r.base_url === 'string' &&
    typeof r.submitted_at === 'string' &&
    (r.input_type === undefined || typeof r.input_type === 'string') &&
    (r.user_id === undefined || typeof r.user_id === 'string') &&
    (r.group === undefined || typeof r.group === 'string') &&
    (r.profile === undefined || typeof r.profile === 'string')
  );
}

export async function readHistory(path: string): Promise<HistoryRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: [], exists: false };
    throw err;
  }
  const records: HistoryRecord[] = [];
  const skipped: number[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v: unknown = JSON.parse(line);
      if (valid(v)) records.push(v);
      else skipped.push(i + 1);
    } catch {
      skipped.push(i + 1);
    }
  });
  return { records, skipped, exists: true };
}
