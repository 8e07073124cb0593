import { ConnectionError, MalformedResponseError, neverReachedServer, UsageError, UserAbortError } from '../../api/errors.js';
import type { CreateMemoryRequest, RunOutput } from '../../api/types.js';
import type { Context } from '../../cli/context.js';
import { INPUT_TYPES, readContent, type InputType, type Reading } from '../../input/content.js';
import { decodeInput } from '../../input/text.js';
import { MAX_INPUT_BYTES, readNamedFile } from '../../io/read.js';
import { detailLines, type DetailRow } from '../../output/detail.js';
import { jsonDocument, ndjsonLine } from '../../output/format.js';
import { sanitize } from '../../output/sanitize.js';
import { parseWaitFlags, waitAndReport, type WaitFlags, type WaitSettings } from '../runs/wait-runner.js';
import { nonEmptyFlag, scopeProperties } from './scope.js';

export interface AddOptions extends WaitFlags {
  file?: string;
  type?: string;
  topic?: string;
  userId?: string;
  group?: string;
  property?: string[];
  conversationId?: string;
  wait?: boolean;
  /** Bulk: one add per line of this JSONL file (- for stdin). */
  jsonl?: string;
  fromLine?: string;
  skipLines?: string;
}

/** After an add, a 404 on the new run is retried this long (eventual consistency). */
export const ADD_NOT_FOUND_GRACE_MS = 5_000;

async function readFileInput(ctx: Context, path: string): Promise<{ buf: Buffer; source: string }> {
  if (path === '-') return { buf: await ctx.readStdin('--file -'), source: 'standard input' };
  return { buf: await readNamedFile(path, '--file', MAX_INPUT_BYTES, 'split it, e.g. one add per line with --jsonl'), source: path };
}

/** Turn arguments and flags into the request body, validating everything before any request. */
export async function buildAddRequest(ctx: Context, texts: string[], o: AddOptions): Promise<{ body: CreateMemoryRequest; reading: Reading }> {
  checkReadingFlags(o);
  let reading: Reading;
  if (o.file !== undefined) {
    if (texts.length > 0) throw new UsageError('give text arguments or --file, not both');
    const { buf, source } = await readFileInput(ctx, o.file);
    reading = readContent(decodeInput(buf, source), source, { type: o.type as InputType | undefined, topic: o.topic, warn: (m) => ctx.warn(m) });
  } else {
    if (texts.length === 0) {
      throw new UsageError('nothing to add', 'pass text arguments, or --file PATH (use - for standard input)');
    }
    if (o.type !== undefined && o.type !== 'string') throw new UsageError(`--type ${o.type} needs --file; text arguments are string input`);
    texts.forEach((t, i) => {
      if (t.trim() === '') throw new UsageError(`text argument ${i + 1} is empty`, 'give some text to remember');
    });
    reading = o.topic !== undefined
      ? { input: { pre_extracted: { items: texts.map((content) => ({ content, topic: o.topic! })) } }, kind: 'text lines' }
      : { input: { string: { content: texts } }, kind: 'plain text' };
  }
  const body = applyScopeFlags({ ...(reading.body ?? {}), input: reading.input }, o);
  return { body, reading };
}

/** --user-id, --group, --property and --conversation-id over a request body (flags win). */
export function applyScopeFlags(body: CreateMemoryRequest, o: AddOptions): CreateMemoryRequest {
  const userId = nonEmptyFlag(o.userId, '--user-id');
  if (userId !== undefined) body.user_id = userId;
  const group = nonEmptyFlag(o.group, '--group');
  if (group !== undefined) body.group = group;
  const props = scopeProperties(o);
  if (props) body.properties = { ...(body.properties ?? {}), ...props };
  return body;
}

/** --type and --topic, checked before anything is read or sent (single and bulk adds). */
export function checkReadingFlags(o: Pick<AddOptions, 'type' | 'topic'>): void {
  if (o.type !== undefined && !(INPUT_TYPES as readonly string[]).includes(o.type)) {
    throw new UsageError(`invalid --type ${JSON.stringify(o.type)}`, `use one of: ${INPUT_TYPES.join(', ')}`);
  }
  nonEmptyFlag(o.topic, '--topic');
}

/** The settings of --wait, or undefined without it (when the wait flags are a usage error). */
export function addWaitSettings(ctx: Context, o: AddOptions): WaitSettings | undefined {
  if (!o.wait && (o.timeout || o.interval || o.until || o.failFast || o.events)) {
    throw new UsageError('--timeout, --interval, --until, --fail-fast and --events need --wait');
  }
  return o.wait ? parseWaitFlags(ctx, o) : undefined;
}

export async function memoriesAdd(ctx: Context, texts: string[], o: AddOptions): Promise<number> {
  if (o.jsonl !== undefined) {
    const { memoriesBulkAdd } = await import('./bulk-add.js');
    return memoriesBulkAdd(ctx, texts, o as AddOptions & { jsonl: string });
  }
  for (const [flag, v] of [['--from-line', o.fromLine], ['--skip-lines', o.skipLines]] as const) {
    if (v !== undefined) throw new UsageError(`${flag} needs --jsonl`);
  }
  if (o.concurrency !== undefined) throw new UsageError('--concurrency needs --jsonl', 'a single add sends one request');
  const settings = addWaitSettings(ctx, o);
  const { body } = await buildAddRequest(ctx, texts, o);
  const format = ctx.format();
  const client = await ctx.client();
  let out: RunOutput;
  try {
    out = await client.memories.add(body);
  } catch (err) {
    // Adds are not idempotent: say plainly when the request may have started a run anyway.
    if (err instanceof UserAbortError || ((err instanceof ConnectionError || err instanceof MalformedResponseError) && !neverReachedServer(err))) {
      ctx.io.stderr.write(
        `warning: the add may or may not have started a run (${err instanceof UserAbortError ? 'interrupted' : 'no complete answer'}); ` +
          `before sending it again, look for it with: engram memories list${body.user_id ? ` --user-id ${sanitize(body.user_id)}` : ''}\n`,
      );
    }
    throw err;
  }
  const id = out.run_id;
  const { HistoryRecorder, inputTypeOf } = await import('../../history/recorder.js');
  await new HistoryRecorder(ctx).record({ run_id: id, input_type: inputTypeOf(body.input), user_id: body.user_id, group: body.group });
  const humanOut = format === 'table' || format === 'plain';
  if (settings) {
    if (ctx.quiet && humanOut) ctx.io.stdout.write(sanitize(id) + '\n');
    else ctx.info(`submitted run ${sanitize(id)}; waiting for it (Ctrl-C stops waiting, not the run)`);
    return waitAndReport(ctx, [id], settings, { notFoundGraceMs: ADD_NOT_FOUND_GRACE_MS, humanReport: !(ctx.quiet && humanOut) });
  }
  if (ctx.quiet && humanOut) {
    ctx.io.stdout.write(sanitize(id) + '\n');
  } else if (format === 'json') {
    ctx.io.stdout.write(jsonDocument(out));
  } else if (format === 'ndjson') {
    ctx.io.stdout.write(ndjsonLine(out));
  } else {
    const t = ctx.outTheme();
    const tty = format === 'table';
    const status = tty ? `${t.statusSymbol(out.status)} ${t.status(sanitize(out.status))}` : sanitize(out.status);
    // The rows of `runs get`: Run ID / Status on a terminal, the JSON field names when piped.
    const rows: DetailRow[] = [['Run ID', 'run_id', sanitize(id)], ['Status', 'status', status]];
    ctx.io.stdout.write(detailLines(rows, t, tty).join('\n') + '\n');
    ctx.info(`wait for it with: engram runs wait ${sanitize(id)}`);
  }
  return 0;
}
