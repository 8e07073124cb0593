import { UsageError, UserAbortError } from '../../api/errors.js';
import { blankRun } from '../../api/resources/runs.js';
import { ExitCode, worstExitCode } from '../../cli/exit-codes.js';
import type { Context } from '../../cli/context.js';
import { formatDuration, parseDuration, parseIntInRange } from '../../cli/flags.js';
import { jsonDocument, ndjsonLine, type OutputFormat } from '../../output/format.js';
import { memoryIdLines, opsCounts } from '../../output/runs.js';
import { between } from '../../output/time.js';
import { sanitize } from '../../output/sanitize.js';
import type { Theme } from '../../output/theme.js';
import { exitCodeFor, WaitEngine, type RunResult, type Until } from '../../wait/engine.js';
import { WaitProgress } from '../../wait/progress.js';

/** The `runs wait` flags, shared with `memories add --wait`. */
export interface WaitFlags {
  timeout?: string;
  interval?: string;
  until?: string;
  failFast?: boolean;
  events?: boolean;
  concurrency?: string;
}

export interface WaitSettings {
  timeoutMs: number;
  intervalMs: number;
  until: Until;
  failFast: boolean;
  events: boolean;
  concurrency: number;
}

export const DEFAULT_WAIT_TIMEOUT = '10m';

/** Validate the wait flags before anything is sent. */
export function parseWaitFlags(ctx: Context, f: WaitFlags): WaitSettings {
  const envTimeout = ctx.env.ENGRAM_WAIT_TIMEOUT?.trim() || undefined;
  const timeoutMs = f.timeout !== undefined
    ? parseDuration(f.timeout, '--timeout')
    : parseDuration(envTimeout ?? DEFAULT_WAIT_TIMEOUT, envTimeout ? 'ENGRAM_WAIT_TIMEOUT' : '--timeout');
  const intervalMs = parseDuration(f.interval ?? '5s', '--interval');
  if (intervalMs < 100) throw new UsageError('--interval must be at least 100ms', 'polling faster only loads the service');
  const until = f.until ?? 'completed';
  if (until !== 'completed' && until !== 'in_buffer') {
    throw new UsageError(`invalid --until ${JSON.stringify(until)}`, 'use one of: completed, in_buffer');
  }
  const events = !!f.events;
  if (events && (ctx.globals.json || ctx.globals.output === 'json' || ctx.globals.output === 'ndjson')) {
    throw new UsageError('--events conflicts with --json and --output', 'use --events for a stream of status changes, or --json for the final document');
  }
  const concurrency = f.concurrency === undefined ? 16 : parseIntInRange(f.concurrency, '--concurrency', 1, 64);
  return { timeoutMs, intervalMs, until, failFast: !!f.failFast, events, concurrency };
}

/** Why a run did not end well, in one sentence (JSON `wait.message` and the report). */
function outcomeMessage(r: RunResult, timeoutMs: number): string | null {
  const last = r.lastStatus === null ? 'never seen' : `last status ${r.lastStatus}`;
  switch (r.outcome) {
    case 'completed':
    case 'in_buffer':
      return null;
    case 'failed':
      return r.run?.error ?? 'the run failed without an error message';
    case 'timeout':
      return `deadline of ${formatDuration(timeoutMs)} reached; ${last}`;
    case 'unavailable':
      return `no useful answer from the service before the deadline${r.error ? ` (${r.error.message})` : ''}`;
    case 'cancelled':
      return `not waited for: --fail-fast stopped at a failed run; ${last}`;
    case 'interrupted':
      return `${r.error?.exitCode === ExitCode.SIGTERM ? 'terminated' : 'interrupted'} while waiting; ${last}`;
    case 'not_found':
    case 'error':
      return r.error?.message ?? r.outcome;
  }
}

/** The JSON document of one waited run: the run's own fields, plus a `wait` object. */
export function waitJson(r: RunResult, nowMs: number, timeoutMs: number): Record<string, unknown> {
  const run = r.run ?? blankRun(r.run_id);
  const wait: Record<string, unknown> = {
    outcome: r.outcome,
    exit_code: exitCodeFor(r.outcome, r.error),
    elapsed_ms: r.elapsedMs,
    polls: r.polls,
    in_status_ms: r.lastStatus === null ? null : nowMs - r.statusSince,
    message: outcomeMessage(r, timeoutMs),
  };
  return { ...run, wait };
}

/** One summary line per run: what happened, how long the run took, how long we waited. */
function line(r: RunResult, theme: Theme, tty: boolean, nowMs: number): string {
  const c = theme.c;
  const id = sanitize(r.run_id);
  const ops = r.run?.committed_operations;
  const anyOps = !!ops && ops.created.length + ops.updated.length + ops.deleted.length > 0;
  const opsText = ops && (r.outcome === 'completed' || r.outcome === 'in_buffer' || anyOps) ? `  ${opsCounts(ops)}` : '';
  const waited = `waited ${formatDuration(r.elapsedMs)}`;
  const ran = r.run && (r.outcome === 'completed' || r.outcome === 'failed') ? ` · ran ${between(r.run.created_at, r.run.updated_at)}` : '';
  const sym = (s: string) => (tty ? theme.statusSymbol(s) + ' ' : '');
  const mark = (m: string) => (tty ? m + ' ' : '');
  const still = r.lastStatus === null ? 'never seen' : `still ${sanitize(r.lastStatus)} (for ${formatDuration(nowMs - r.statusSince)})`;
  switch (r.outcome) {
    case 'completed':
    case 'failed':
    case 'in_buffer':
      // A failure's error text goes to stderr (below), once.
      return `${sym(r.outcome)}${id}  ${theme.status(r.outcome)}${ran} · ${waited}${opsText}`;
    case 'timeout':
      return `${mark(c.yellow('…'))}${id}  not finished: ${still}${opsText}`;
    case 'unavailable':
      return `${mark(c.yellow('…'))}${id}  no useful answer from the service: ${sanitize(r.error?.message ?? 'unknown error')}`;
    case 'cancelled':
      return `${mark(c.yellow('…'))}${id}  not waited for (--fail-fast): ${still}${opsText}`;
    case 'interrupted':
      return `${mark(c.yellow('…'))}${id}  interrupted: ${still}${opsText}`;
    case 'not_found':
      return `${mark(c.red('?'))}${id}  not found`;
    case 'error':
      return `${mark(c.red('!'))}${id}  ${sanitize(r.error?.message ?? 'error')}`;
  }
}


export function resumeHint(allIds: string[]): string {
  const ids = allIds.map((id) => sanitize(id)); // ids of new runs come from the server
  const shown = ids.length <= 5 ? ids.join(' ') : `${ids.slice(0, 3).join(' ')} … (${ids.length} runs; pipe them to \`engram runs wait -\`)`;
  return `the run${ids.length === 1 ? '' : 's'} continue${ids.length === 1 ? 's' : ''} on the server — resume with \`engram runs wait ${shown}\``;
}

/**
 * Wait on runs with the engine, drawing progress and the final report, and return the exit
 * code (worst outcome first). Used by `runs wait` and `memories add --wait`.
 */
export async function waitAndReport(
  ctx: Context,
  ids: string[],
  s: WaitSettings,
  opts: { notFoundGraceMs?: number; humanReport?: boolean } = {},
): Promise<number> {
  const client = await ctx.client();
  const format: OutputFormat = ctx.format();
  const outTheme = ctx.outTheme();
  const errTheme = ctx.errTheme();
  const { io, clock } = ctx;
  // --json: one run gives an object, several an array (like runs get).
  const jsonOf = (list: RunResult[], now: number) =>
    jsonDocument(list.length === 1 ? waitJson(list[0]!, now, s.timeoutMs) : list.map((r) => waitJson(r, now, s.timeoutMs)));
  let progress!: WaitProgress;
  const engine: WaitEngine = new WaitEngine({
    ids,
    fetchRun: (id, signal, timeoutMs) => client.runs.get(id, { signal, timeoutMs, maxRetries: 0 }),
    clock,
    random: ctx.random,
    timeoutMs: s.timeoutMs,
    intervalMs: s.intervalMs,
    requestTimeoutMs: ctx.requestTimeoutMs(),
    until: s.until,
    failFast: s.failFast,
    concurrency: s.concurrency,
    notFoundGraceMs: opts.notFoundGraceMs ?? 0,
    signal: ctx.signal,
    listener: {
      onStatus: (ev, run) => {
        if (s.events) io.stdout.write(ndjsonLine(ev));
        progress.onStatus(ev, run);
      },
      onRetry: (m) => progress.onRetry(m),
      onWarning: (m) => progress.onWarning(m),
      onResult: (r) => {
        progress.onResult(r);
        if (format === 'ndjson') io.stdout.write(ndjsonLine(waitJson(r, clock.now(), s.timeoutMs)));
      },
    },
  });
  progress = await WaitProgress.start({
    io,
    theme: errTheme,
    clock,
    quiet: ctx.quiet,
    events: s.events,
    summary: () => engine.summary(),
    total: new Set(ids).size,
  });
  let results: RunResult[];
  try {
    results = await engine.run();
  } catch (err) {
    progress.stop();
    if (err instanceof UserAbortError && err.signalName !== 'SIGPIPE') {
      // Scripts piping --json still get a document: every run as far as we know it.
      const snap = engine.snapshot('interrupted', err);
      if (!s.events && format === 'json') io.stdout.write(jsonOf(snap, clock.now()));
      if (!s.events && format === 'ndjson') for (const r of snap.filter((x) => x.outcome === 'interrupted')) io.stdout.write(ndjsonLine(waitJson(r, clock.now(), s.timeoutMs)));
      const pending = snap.filter((r) => r.outcome === 'interrupted').map((r) => r.run_id);
      const what = err.signalName === 'SIGTERM' ? 'terminated' : 'interrupted';
      io.stderr.write(`${what} after ${formatDuration(clock.now() - engine.startedAt)}: ${resumeHint(pending.length > 0 ? pending : [...new Set(ids)])}\n`);
    }
    throw err;
  }
  progress.stop();

  const code = worstExitCode(results.map((r) => exitCodeFor(r.outcome, r.error)));
  const now = clock.now();
  if (!s.events) {
    if (format === 'json') io.stdout.write(jsonOf(results, now));
    else if (format !== 'ndjson' && opts.humanReport !== false) {
      const tty = format === 'table';
      const lines: string[] = [];
      // Runs that were never found or could not be read are errors on stderr, not data.
      for (const r of results.filter((x) => x.outcome !== 'not_found' && x.outcome !== 'error')) {
        lines.push(line(r, outTheme, tty, now));
        if (r.run) lines.push(...memoryIdLines(r.run.committed_operations, outTheme, tty ? 20 : Infinity, '    '));
      }
      if (lines.length > 0) io.stdout.write(lines.join('\n') + '\n');
    }
  } else if (!ctx.quiet) {
    for (const r of results) io.stderr.write(line(r, errTheme, io.stderrTTY, now) + '\n');
  }
  // Failures and problems are errors: they print even with --quiet.
  for (const r of results) {
    if (r.outcome === 'failed') io.stderr.write(`${errTheme.c.red('error:')} run ${sanitize(r.run_id)} failed: ${sanitize(r.run?.error ?? 'no error message')}\n`);
    if (r.outcome === 'not_found') io.stderr.write(`${errTheme.c.red('error:')} run ${sanitize(r.run_id)} not found\n`);
    if (r.outcome === 'error' && r.error) {
      io.stderr.write(`${errTheme.c.red('error:')} run ${sanitize(r.run_id)}: ${sanitize(r.error.message)}\n`);
      for (const h of r.error.hints) io.stderr.write(`  ${sanitize(h)}\n`);
    }
  }
  const unfinished = results.filter((r) => r.outcome === 'timeout' || r.outcome === 'unavailable' || r.outcome === 'cancelled');
  if (unfinished.length > 0) {
    const [label, why] = unfinished.some((r) => r.outcome === 'unavailable')
      ? ['unavailable:', 'the service gave no useful answer before the deadline']
      : unfinished.every((r) => r.outcome === 'cancelled')
        ? ['stopped:', 'at the first failed run (--fail-fast)']
        : ['timeout:', `deadline of ${formatDuration(s.timeoutMs)} reached`];
    io.stderr.write(`${errTheme.c.yellow(label)} ${why}; ${resumeHint(unfinished.map((r) => r.run_id))}\n`);
  }
  return code;
}
