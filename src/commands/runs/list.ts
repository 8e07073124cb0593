import { APIError, EngramError, UserAbortError, NotFoundError, UsageError } from '../../api/errors.js';
import { blankRun } from '../../api/resources/runs.js';
import type { Run } from '../../api/types.js';
import type { Context } from '../../cli/context.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { parseIntInRange } from '../../cli/flags.js';
import { historyFile } from '../../config/paths.js';
import { readHistory, type HistoryRecord } from '../../history/history.js';
import { errnoCode } from '../../io/errno.js';
import { jsonDocument, ndjsonLine } from '../../output/format.js';
import { opsCounts } from '../../output/runs.js';
import { orDash as s, sanitize } from '../../output/sanitize.js';
import { renderTable, type Column } from '../../output/table.js';
import { tableTimestamp } from '../../output/time.js';
import { limiter } from '../../wait/limit.js';

export interface RunsListOptions {
  status?: string;
  limit?: string;
  /** commander's --no-refresh sets this to false. */
  refresh?: boolean;
}

interface Entry {
  rec: HistoryRecord;
  run?: Run;
  refreshError?: string;
}

function entryJson(e: Entry): Record<string, unknown> {
  const history = {
    submitted_at: e.rec.submitted_at,
    profile: e.rec.profile ?? null,
    group: e.rec.group ?? null,
    source: e.rec.source ?? null,
  };
  if (e.run) return { ...e.run, history };
  return {
    ...blankRun(e.rec.run_id),
    user_id: e.rec.user_id ?? null,
    input_type: e.rec.input_type ?? null,
    history,
    refresh_error: e.refreshError ?? null,
  };
}

/**
 * `engram runs list`: the runs this CLI submitted to the current base URL (the API cannot list
 * runs), newest first, each refreshed with GET /v1/runs/{id} unless --no-refresh.
 */
export async function runsList(ctx: Context, o: RunsListOptions): Promise<number> {
  const limit = o.limit === undefined ? 20 : parseIntInRange(o.limit, '--limit', 1, 100_000);
  const refresh = o.refresh !== false;
  const status = o.status?.trim();
  if (o.status !== undefined && !status) throw new UsageError('--status is empty', 'use e.g. --status failed');
  if (status && !refresh) throw new UsageError('--status needs the current status of each run', 'drop --no-refresh');
  const format = ctx.format();
  const baseUrl = ctx.baseUrl();
  const path = historyFile(ctx.env);
  let read;
  try {
    read = await readHistory(path);
  } catch (err) {
    throw new UsageError(`cannot read the run history ${path}: ${errnoCode(err)}`);
  }
  if (read.skipped.length > 0) {
    const shown = read.skipped.slice(0, 5).join(', ') + (read.skipped.length > 5 ? ', …' : '');
    ctx.warn(`skipped ${read.skipped.length} unreadable line${read.skipped.length > 1 ? 's' : ''} in ${path} (line ${shown})`);
  }
  // Newest first (append order), one entry per run, only this base URL.
  const seen = new Set<string>();
  const records: HistoryRecord[] = [];
  for (let i = read.records.length - 1; i >= 0; i--) {
    const r = read.records[i]!;
    if (r.base_url.replace(/\/+$/, '') !== baseUrl || seen.has(r.run_id)) continue;
    seen.add(r.run_id);
    records.push(r);
  }

  const entries: Entry[] = [];
  if (!refresh) {
    for (const rec of records.slice(0, limit)) entries.push({ rec });
  } else if (records.length > 0) {
    const client = await ctx.client();
    const lim = limiter(8);
    let fatal: EngramError | undefined;
    const batch = Math.max(limit, 50);
    for (let start = 0; start < records.length && entries.length < limit; start += batch) {
      const chunk = records.slice(start, start + batch);
      const got = await Promise.all(
        chunk.map((rec) =>
          lim(async (): Promise<Entry> => {
            if (fatal) return { rec };
            try {
              return { rec, run: await client.runs.get(rec.run_id) };
            } catch (err) {
              if (!(err instanceof EngramError) || err instanceof UserAbortError) throw err;
              if (err instanceof NotFoundError) return { rec, refreshError: 'not found on the service (runs are kept for a limited time)' };
              if (err instanceof APIError && (err.status === 401 || err.status === 403)) {
                return { rec, refreshError: `${err.status}: not readable with the current key (submitted with profile "${rec.profile}")` };
              }
              // A run the service rejects (a 4xx about this one id) is that run's problem, not the list's.
              if (err instanceof APIError && err.status >= 400 && err.status < 500 && err.status !== 429) {
                return { rec, refreshError: err.message };
              }
              fatal ??= err;
              return { rec };
            }
          }),
        ),
      );
      if (fatal) {
        fatal.hints.push('use --no-refresh to list the local history without asking the service');
        throw fatal;
      }
      for (const e of got) {
        if (entries.length >= limit) break;
        if (status && e.run?.status !== status) continue;
        entries.push(e);
      }
    }
  }

  if (format === 'json') ctx.io.stdout.write(jsonDocument(entries.map(entryJson)));
  else if (format === 'ndjson') ctx.io.stdout.write(entries.map((e) => ndjsonLine(entryJson(e))).join(''));
  else if (entries.length > 0) {
    const tty = format === 'table';
    const t = ctx.outTheme();
    const now = ctx.clock.now();
    const when = (iso: string | null | undefined) => tableTimestamp(iso, now, tty);
    const cols: Column<Entry>[] = [
      { header: 'run id', value: (e) => s(e.rec.run_id) },
      {
        header: 'status',
        value: (e) => (e.run ? s(e.run.status) : e.refreshError ? 'unknown' : '-'),
        styled: (e) => (e.run ? `${t.statusSymbol(e.run.status)} ${t.status(sanitize(e.run.status))}` : t.c.dim(e.refreshError ? 'unknown' : '-')),
      },
      { header: 'input type', value: (e) => s(e.run?.input_type ?? e.rec.input_type), drop: 2 },
      { header: 'user', value: (e) => s(e.run?.user_id ?? e.rec.user_id), drop: 3 },
      { header: 'operations', value: (e) => (e.run ? opsCounts(e.run.committed_operations) : '-') },
      { header: 'started', value: (e) => when(e.run?.created_at ?? e.rec.submitted_at) },
      { header: 'updated', value: (e) => when(e.run?.updated_at), drop: 1 },
    ];
    ctx.io.stdout.write(await renderTable(entries, cols, { format, theme: t, width: ctx.io.columns() }));
  }
  const failedRefresh = entries.filter((e) => e.refreshError);
  for (const e of failedRefresh) ctx.warn(`run ${sanitize(e.rec.run_id)}: ${sanitize(e.refreshError!)}`);
  if (entries.length === 0) {
    ctx.info(
      records.length === 0
        ? `no runs in the local history for ${baseUrl}; runs submitted with \`engram memories add\` appear here`
        : `no runs with status ${status} among the ${records.length} in the local history`,
    );
  } else if (format === 'table' || format === 'plain') {
    const more = records.length > entries.length && !status ? ` (of ${records.length}; --limit for more)` : '';
    ctx.info(`${entries.length} run${entries.length === 1 ? '' : 's'}${more}`);
  }
  return 0;
}
