import { UserAbortError } from '../../api/errors.js';
import { normalizeCommitted } from '../../api/resources/runs.js';
import { ExitCode, worstExitCode } from '../../cli/exit-codes.js';
import type { Context } from '../../cli/context.js';
import { formatDuration, parseDuration, parseIntInRange } from '../../cli/flags.js';
import { UsageError } from '../../api/errors.js';
import { jsonDocument, ndjsonLine, type OutputFormat } from '../../output/format.js';
import { opsCounts } from '../../output/runs.js';
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

/** The JSON document of one waited run: the run's own fields, plus a `wait` object. */
export function waitJson(r: RunResult, nowMs: number): Record<string, unknown> {
  const run = r.run ?? { run_id: r.run_id, status: null, committed_operations: normalizeCommitted(undefined) };
  const wait: Record<string, unknown> = {
    outcome: r.outcome,
    exit_code: exitCodeFor(r.outcome, r.error),
    elapsed_ms: r.elapsedMs,
    polls: r.polls,
    in_status_ms: r.lastStatus === null ? null : nowMs - r.statusSince,
    message: r.error ? r.error.message : null,
  };
  return { ...run, wait };
}

function line(r: RunResult, theme: Theme, tty: boolean, nowMs: number): string {
  const c = theme.c;
  const id = sanitize(r.run_id);
  const ops = r.run ? `  ${opsCounts(r.run.committed_operations)}` : '';
  const took = formatDuration(r.elapsedMs);
  const sym = (s: string) => (tty ? theme.statusSymbol(s) + ' ' : '');
  switch (r.outcome) {
    case 'completed':
      return `${sym('completed')}${id}  completed after ${took}${ops}`;
    case 'in_buffer':
      return `${sym('in_buffer')}${id}  in_buffer after ${took}${ops}`;
    case 'failed':
      // The error text goes to stderr (below), once.
      return `${sym('failed')}${id}  failed after ${took}${ops}`;
    case 'timeout':
    case 'unavailable':
    case 'cancelled': {
      const last = r.lastStatus === null ? 'never answered' : `still ${sanitize(r.lastStatus)} (for ${formatDuration(nowMs - r.statusSince)})`;
      const why = r.outcome === 'cancelled' ? 'not waited for (--fail-fast)' : r.outcome === 'unavailable' ? `service unavailable: ${sanitize(r.error?.message ?? '')}` : 'not finished';
      return `${tty ? c.yellow('…') + ' ' : ''}${id}  ${why}: ${last}${ops}`;
    }
    case 'not_found':
      return `${tty ? c.red('?') + ' ' : ''}${id}  not found`;
    case 'error':
      return `${tty ? c.red('!') + ' ' : ''}${id}  ${sanitize(r.error?.message ?? 'error')}`;
  }
}

function memoryLines(r: RunResult, theme: Theme, max: number): string[] {
  if (!r.run) return [];
  const ops = r.run.committed_operations;
  const all = [
    ...ops.created.map((o) => theme.c.green('+') + ' ' + sanitize(o.memory_id)),
    ...ops.updated.map((o) => theme.c.yellow('~') + ' ' + sanitize(o.memory_id)),
    ...ops.deleted.map((o) => theme.c.red('-') + ' ' + sanitize(o.memory_id)),
  ];
  const out = all.slice(0, max).map((l) => '    ' + l);
  if (all.length > max) out.push(`    … ${all.length - max} more (use --json for all)`);
  return out;
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
        if (format === 'ndjson') io.stdout.write(ndjsonLine(waitJson(r, clock.now())));
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
    if (err instanceof UserAbortError) {
      const pending = [...new Set(ids)];
      io.stderr.write(`\ninterrupted after ${formatDuration(clock.now() - engine.startedAt)}: ${resumeHint(pending)}\n`);
    }
    throw err;
  }
  progress.stop();

  const code = worstExitCode(results.map((r) => exitCodeFor(r.outcome, r.error)));
  const now = clock.now();
  if (!s.events) {
    if (format === 'json') io.stdout.write(jsonDocument(results.length === 1 ? waitJson(results[0]!, now) : results.map((r) => waitJson(r, clock.now()))));
    else if (format !== 'ndjson' && opts.humanReport !== false) {
      const tty = format === 'table';
      const lines: string[] = [];
      // Runs that were never found or could not be read are errors on stderr, not data.
      for (const r of results.filter((x) => x.outcome !== 'not_found' && x.outcome !== 'error')) {
        lines.push(line(r, outTheme, tty, now));
        lines.push(...memoryLines(r, outTheme, tty ? 20 : Infinity));
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
    if (r.outcome === 'error' && r.error) io.stderr.write(`${errTheme.c.red('error:')} run ${sanitize(r.run_id)}: ${sanitize(r.error.message)}\n`);
  }
  const unfinished = results.filter((r) => r.outcome === 'timeout' || r.outcome === 'unavailable' || r.outcome === 'cancelled');
  if (unfinished.length > 0) {
    const why = unfinished.some((r) => r.outcome === 'unavailable')
      ? 'the service did not answer usefully before the deadline'
      : s.failFast && unfinished.every((r) => r.outcome === 'cancelled')
        ? 'stopped at the first failed run (--fail-fast)'
        : `deadline of ${formatDuration(s.timeoutMs)} reached`;
    io.stderr.write(`${errTheme.c.yellow('timeout:')} ${why}; ${resumeHint(unfinished.map((r) => r.run_id))}\n`);
  }
  return code === ExitCode.OK ? ExitCode.OK : code;
}
