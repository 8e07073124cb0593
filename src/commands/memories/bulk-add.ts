import { setMaxListeners } from 'node:events';
import {
  APIError,
  ConnectionError,
  EngramError,
  MalformedResponseError,
  neverReachedServer,
  UsageError,
  UserAbortError,
} from '../../api/errors.js';
import type { CreateMemoryRequest, Input } from '../../api/types.js';
import type { Context } from '../../cli/context.js';
import { readNamedFile } from '../../io/read.js';
import { ExitCode, worstExitCode } from '../../cli/exit-codes.js';
import { parseIntInRange } from '../../cli/flags.js';
import { readContent, type InputType } from '../../input/content.js';
import { invalidUtf8Offset, jsonSyntaxError, stripBom } from '../../input/text.js';
import { ndjsonLine } from '../../output/format.js';
import { sanitize } from '../../output/sanitize.js';
import { HistoryRecorder, inputTypeOf } from '../../history/recorder.js';
import { canAnimate } from '../../io/streams.js';
import { ADD_NOT_FOUND_GRACE_MS, addWaitSettings, applyScopeFlags, checkReadingFlags, type AddOptions } from './add.js';
import { waitAndReport } from '../runs/wait-runner.js';
import { Spinner } from '../../wait/progress.js';

/** A JSONL file is read whole (every line is validated before anything is sent). */
export const MAX_JSONL_BYTES = 256 * 1024 * 1024;
export const DEFAULT_BULK_CONCURRENCY = 4;
const MAX_ERRORS_SHOWN = 10;

export interface BulkOptions extends AddOptions {
  jsonl: string;
  concurrency?: string;
}

interface Item {
  line: number;
  body: CreateMemoryRequest;
}

type Final =
  | { kind: 'accepted'; run_id: string; status: string }
  | { kind: 'rejected'; error: EngramError }
  | { kind: 'unknown'; error: Error }
  | { kind: 'not_sent'; error?: EngramError };


/** `3,7-9` → {3, 7, 8, 9}. */
export function parseLineList(spec: string, flag: string): Set<number> {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(p);
    if (!m) throw new UsageError(`invalid ${flag} ${JSON.stringify(spec)}`, `use line numbers and ranges, e.g. ${flag} 3,7-9`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1 || b < a || b - a > 10_000_000) throw new UsageError(`invalid range ${JSON.stringify(p)} in ${flag}`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

/** {3, 7, 8, 9} → `3,7-9`. */
export function formatLineList(lines: number[]): string {
  const sorted = [...lines].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The flags that shape every line, to repeat in the resume command. */
function resumeCommand(o: BulkOptions, from: number, skip: number[]): string {
  const args = ['engram', 'memories', 'add', '--jsonl', o.jsonl, '--from-line', String(from)];
  if (skip.length > 0) args.push('--skip-lines', formatLineList(skip));
  const add = (flag: string, v: string | undefined) => v !== undefined && args.push(flag, v);
  add('--user-id', o.userId);
  add('--group', o.group);
  for (const p of o.property ?? []) args.push('--property', p);
  add('--conversation-id', o.conversationId);
  add('--type', o.type);
  add('--topic', o.topic);
  add('--concurrency', o.concurrency);
  if (o.wait) args.push('--wait');
  return args.map(shellQuote).join(' ');
}

function describeSource(path: string): string {
  return path === '-' ? 'standard input' : path;
}

/** Read and validate every selected line; throws one UsageError listing the bad lines. */
export function parseJsonl(
  text: string,
  source: string,
  o: BulkOptions,
  select: (line: number) => boolean,
  warn: (m: string) => void,
): Item[] {
  const items: Item[] = [];
  const errors: string[] = [];
  const ignored: string[] = [];
  let errorCount = 0;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (!select(n)) return;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const where = `${source}:${n}`;
    try {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        // file:line:column and why (Node's own message names no position for some errors, and quotes the line).
        const found = jsonSyntaxError(line);
        throw new UsageError(
          `${where}${found ? `:${found.offset + 1}` : ''}: invalid JSON: ${found?.reason ?? (err as Error).message}`,
          'each line must be one JSON value; write text as a JSON string, e.g. "The user likes tea."',
        );
      }
      let input: Input;
      let scope: Omit<CreateMemoryRequest, 'input'> = {};
      if (typeof value === 'string') {
        if (value.trim() === '') throw new UsageError(`${where}: empty text`, 'give some text to remember, or delete the line');
        if (o.type !== undefined && o.type !== 'string') throw new UsageError(`${where}: a text line cannot be read as --type ${o.type}`);
        input = o.topic !== undefined ? { pre_extracted: { items: [{ content: value, topic: o.topic }] } } : { string: { content: [value] } };
      } else if (value !== null && typeof value === 'object') {
        const reading = readContent(line, where, { type: o.type as InputType | undefined, warn: (m) => ignored.push(m) });
        input = reading.input;
        scope = reading.body ?? {};
      } else {
        throw new UsageError(`${where}: expected a JSON string (text), an array or an object, got ${JSON.stringify(value)}`);
      }
      items.push({ line: n, body: applyScopeFlags({ ...scope, input }, o) });
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      errorCount++;
      if (errors.length < MAX_ERRORS_SHOWN) errors.push(err.message);
    }
  });
  if (ignored.length > 0) {
    warn(ignored[0]! + (ignored.length > 1 ? ` (and ${ignored.length - 1} more line${ignored.length > 2 ? 's' : ''} with ignored fields)` : ''));
  }
  if (errorCount > 0) {
    const e = new UsageError(
      errorCount === 1 ? errors[0]! : `${errorCount} invalid lines in ${source}; nothing was sent`,
      errorCount === 1 ? undefined : 'fix them and run the command again',
    );
    if (errorCount > 1) {
      e.hints.push(...errors);
      if (errorCount > errors.length) e.hints.push(`… and ${errorCount - errors.length} more`);
    } else e.hints.push('nothing was sent');
    throw e;
  }
  return items;
}

async function readJsonl(ctx: Context, path: string): Promise<Buffer> {
  if (path === '-') {
    return ctx.readStdin('--jsonl -', { notice: 'reading JSONL from standard input, one add per line; end with Ctrl-D', limit: MAX_JSONL_BYTES });
  }
  return readNamedFile(path, '--jsonl', MAX_JSONL_BYTES);
}

function decode(buf: Buffer, source: string): string {
  const bad = invalidUtf8Offset(buf);
  if (bad >= 0) {
    let line = 1;
    for (let i = 0; i < bad; i++) if (buf[i] === 0x0a) line++;
    throw new UsageError(`${source}:${line}: not valid UTF-8 (byte 0x${buf[bad]!.toString(16).padStart(2, '0')})`, 'convert the file first, e.g. iconv -f latin1 -t utf-8; nothing was sent');
  }
  return stripBom(buf.toString('utf8'));
}

/** `engram memories add --jsonl PATH|-`: one add per line, accounted for line by line. */
export async function memoriesBulkAdd(ctx: Context, texts: string[], o: BulkOptions): Promise<number> {
  if (texts.length > 0 || o.file !== undefined) throw new UsageError('--jsonl cannot be combined with text arguments or --file', 'put every add in the JSONL file, one per line');
  const format = ctx.format();
  if (format === 'json') throw new UsageError('--jsonl prints one NDJSON line per input, not one JSON document', 'drop --json (or use -o ndjson)');
  if (o.jsonl.trim() === '') throw new UsageError('--jsonl is empty', 'give a file, or - for standard input');
  const concurrency = o.concurrency === undefined ? DEFAULT_BULK_CONCURRENCY : parseIntInRange(o.concurrency, '--concurrency', 1, 64);
  const fromLine = o.fromLine === undefined ? 1 : parseIntInRange(o.fromLine, '--from-line', 1, Number.MAX_SAFE_INTEGER);
  const skip = o.skipLines === undefined ? new Set<number>() : parseLineList(o.skipLines, '--skip-lines');
  // --concurrency here is the adds' (1-64, default 4), not the wait's.
  const settings = addWaitSettings(ctx, { ...o, concurrency: undefined });
  checkReadingFlags(o);
  const source = describeSource(o.jsonl);
  const text = decode(await readJsonl(ctx, o.jsonl), source);
  const totalLines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (fromLine > Math.max(totalLines, 1)) throw new UsageError(`--from-line ${fromLine} is past the end of ${source} (${totalLines} lines)`);
  const items = parseJsonl(text, o.jsonl === '-' ? 'stdin' : o.jsonl, o, (n) => n >= fromLine && !skip.has(n), (m) => ctx.warn(m));
  if (items.length === 0) throw new UsageError(`no adds in ${source}${fromLine > 1 ? ` from line ${fromLine}` : ''}`, 'each non-blank line is one add');

  const client = await ctx.client();
  const recorder = new HistoryRecorder(ctx);
  setMaxListeners(Math.max(20, concurrency * 4), ctx.signal);
  const finals = new Map<number, Final>();
  const recording: Promise<void>[] = [];
  let stopped: { reason: string; error: EngramError } | undefined;
  let next = 0;
  let done = 0;
  const counts = { accepted: 0, rejected: 0, unknown: 0 };
  const out = (v: Record<string, unknown>) => ctx.io.stdout.write(ndjsonLine(v));

  // Progress: an ora spinner on a terminal, nothing otherwise (stdout is the record).
  const progressText = () =>
    `submitted ${done}/${items.length} · ${counts.accepted} accepted${counts.rejected ? ` · ${counts.rejected} rejected` : ''}${counts.unknown ? ` · ${counts.unknown} unknown` : ''}`;
  const spinner = !ctx.quiet && canAnimate(ctx.io) ? await Spinner.start(ctx.io, progressText, ctx.errTheme().enabled) : undefined;

  const stop = (reason: string, error: EngramError) => {
    stopped ??= { reason, error };
  };

  async function submit(item: Item): Promise<void> {
    let res: Awaited<ReturnType<typeof client.memories.add>>;
    try {
      res = await client.memories.add(item.body);
    } catch (err) {
      const final = classify(err);
      finals.set(item.line, final);
      done++;
      if (final.kind === 'rejected') {
        counts.rejected++;
        out({ line: item.line, outcome: 'rejected', error: final.error.message, http_status: err instanceof APIError ? err.status : null });
      } else if (final.kind === 'unknown') {
        counts.unknown++;
        out({ line: item.line, outcome: 'unknown', error: final.error.message });
      }
      return;
    }
    finals.set(item.line, { kind: 'accepted', run_id: res.run_id, status: res.status });
    done++;
    counts.accepted++;
    out({ line: item.line, outcome: 'accepted', run_id: res.run_id, status: res.status });
    // Recorded in the background (never fails): the next add does not wait for the disk.
    recording.push(recorder.record({
      run_id: res.run_id,
      input_type: inputTypeOf(item.body.input),
      user_id: item.body.user_id,
      group: item.body.group,
      source: `${o.jsonl === '-' ? 'stdin' : o.jsonl}:${item.line}`,
    }));
  }

  function classify(err: unknown): Final {
    if (err instanceof UserAbortError) {
      stop('interrupted', err);
      return { kind: 'unknown', error: new UserAbortError(err.signalName) };
    }
    if (err instanceof APIError) {
      if (err.status === 429) {
        stop(`the API answered 429 (${err.detail}): the plan's run limit is reached`, err);
        return { kind: 'not_sent', error: err };
      }
      if (err.status === 401 || err.status === 403) {
        stop(`the API refused the key (${err.status} ${err.detail})`, err);
        return { kind: 'not_sent', error: err };
      }
      if (err.status === 404 || err.status === 405) {
        // No add can be line-specific here (no id in the path): the endpoint is not there.
        stop(`the service has no add endpoint at this base URL (${err.status} ${err.detail}); check --base-url`, err);
        return { kind: 'not_sent', error: err };
      }
      if (err.status >= 500) {
        stop(`the service failed (${err.status})`, err);
        return { kind: 'unknown', error: err };
      }
      return { kind: 'rejected', error: err };
    }
    if (neverReachedServer(err)) {
      stop(`cannot connect (${err.message})`, err);
      return { kind: 'not_sent', error: err };
    }
    if (err instanceof ConnectionError || err instanceof MalformedResponseError) {
      stop(`a request's outcome is unknown (${err.message})`, err);
      return { kind: 'unknown', error: err };
    }
    const e = err instanceof Error ? err : new Error(String(err));
    const wrapped = new EngramError(`unexpected: ${e.message}`);
    stop('an unexpected error', wrapped);
    return { kind: 'unknown', error: wrapped };
  }

  async function worker(): Promise<void> {
    while (!stopped && !ctx.signal.aborted && next < items.length) {
      await submit(items[next++]!);
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  } finally {
    spinner?.stop();
    await Promise.all(recording);
  }
  if (!stopped && ctx.signal.aborted) stopped = { reason: 'interrupted', error: UserAbortError.from(ctx.signal) };

  // Every selected line ends as exactly one of: accepted, rejected, unknown, not sent.
  const notSent = items.filter((it) => !finals.has(it.line) || finals.get(it.line)!.kind === 'not_sent');
  for (const it of notSent) {
    const f = finals.get(it.line);
    const why = f?.kind === 'not_sent' && f.error ? f.error.message : stopped ? `not sent: submission stopped (${stopped.reason})` : 'not sent';
    out({ line: it.line, outcome: 'not_sent', error: why });
  }

  const rejected = items.filter((it) => finals.get(it.line)?.kind === 'rejected');
  const unknown = items.filter((it) => finals.get(it.line)?.kind === 'unknown');
  const accepted = items.filter((it) => finals.get(it.line)?.kind === 'accepted');
  const codes: ExitCode[] = [];
  for (const it of [...rejected, ...unknown]) {
    const f = finals.get(it.line) as { error: Error };
    codes.push(f.error instanceof EngramError ? f.error.exitCode : ExitCode.UNEXPECTED);
  }
  if (notSent.length > 0 && stopped) codes.push(stopped.error.exitCode);
  const interrupted = stopped?.error instanceof UserAbortError ? stopped.error : undefined;

  // The summary: always when something went wrong (errors print even with -q).
  const problem = rejected.length + unknown.length + notSent.length > 0;
  const say = (s: string) => (problem ? ctx.io.stderr.write(s + '\n') : ctx.info(s));
  const t = ctx.errTheme();
  const firstLines = (list: Item[], n = 5) => formatLineList(list.slice(0, n).map((i) => i.line)) + (list.length > n ? ', …' : '');
  say(
    `${source}: ${items.length} add${items.length === 1 ? '' : 's'} — ${accepted.length} accepted, ${rejected.length} rejected, ${unknown.length} outcome unknown, ${notSent.length} not sent`,
  );
  if (rejected.length > 0) {
    const f = finals.get(rejected[0]!.line) as { error: Error };
    say(`  ${t.c.red('rejected')}: line ${firstLines(rejected)} (first: ${sanitize(f.error.message)}); fix ${rejected.length === 1 ? 'it' : 'them'} and add ${rejected.length === 1 ? 'it' : 'them'} again`);
  }
  if (unknown.length > 0) {
    say(
      `  ${t.c.yellow('outcome unknown')}: line ${firstLines(unknown)} — the request may have reached the service; ${unknown.length === 1 ? 'it was' : 'they were'} not re-sent (adds are not idempotent). Check with \`engram memories search\` before adding ${unknown.length === 1 ? 'it' : 'them'} again`,
    );
  }
  if (notSent.length > 0) {
    const from = notSent[0]!.line;
    const selected = new Set(notSent.map((i) => i.line));
    // Lines after the resume point that were already handled (or skipped before) must not be sent again.
    const skipAfter: number[] = [];
    for (let n = from + 1; n <= totalLines; n++) if (!selected.has(n) && (skip.has(n) || finals.has(n))) skipAfter.push(n);
    say(`  ${t.c.yellow('not sent')}: ${notSent.length === 1 ? `line ${from}` : `${notSent.length} lines from line ${from}`}${stopped ? ` — stopped: ${sanitize(stopped.reason)}` : ''}`);
    say(`  resume with: ${resumeCommand(o, from, skipAfter)}${o.jsonl === '-' ? '   (pipe the same input again)' : ''}`);
  }

  let code = worstExitCode(codes);
  if (settings && accepted.length > 0 && !interrupted) {
    const ids = accepted.map((it) => (finals.get(it.line) as { run_id: string }).run_id);
    const waited = await waitAndReport(ctx, ids, settings, { notFoundGraceMs: ADD_NOT_FOUND_GRACE_MS, humanReport: false });
    code = worstExitCode([code, waited as ExitCode]);
  }
  if (interrupted) return interrupted.exitCode;
  return code;
}
