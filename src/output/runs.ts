import { TERMINAL_STATUSES, type CommittedOperations, type Run } from '../api/types.js';
import type { OutputFormat } from './format.js';
import { jsonDocument, ndjsonLine } from './format.js';
import { detailLines, labelWidth, type DetailRow } from './detail.js';
import { orDash as s, sanitize } from './sanitize.js';
import type { Theme } from './theme.js';
import { between, formatTimestamp } from './time.js';

export interface RenderOptions {
  format: OutputFormat;
  theme: Theme;
  nowMs: number;
  /** Memory ids shown per run in human views before "… N more" (all of them in JSON). */
  maxIds?: number;
}

export function opsCounts(ops: CommittedOperations): string {
  return `+${ops.created.length} ~${ops.updated.length} -${ops.deleted.length}`;
}

/** The console's Run Detail panel, as labelled rows. */
function detailRows(run: Run, o: RenderOptions): DetailRow[] {
  const tty = o.format === 'table';
  const status = tty ? `${o.theme.statusSymbol(run.status)} ${o.theme.status(sanitize(run.status))}` : o.theme.status(sanitize(run.status));
  const finished = TERMINAL_STATUSES.has(run.status);
  const rows: DetailRow[] = [
    ['Run ID', 'run_id', s(run.run_id)],
    ['Status', 'status', status],
    ['Input type', 'input_type', s(run.input_type)],
    ['User', 'user_id', s(run.user_id)],
    ['Group ID', 'group_id', s(run.group_id)],
    ['Starting step', 'starting_step', s(run.starting_step)],
    ['Created', 'created_at', formatTimestamp(run.created_at, o.nowMs, tty)],
    ['Updated', 'updated_at', formatTimestamp(run.updated_at, o.nowMs, tty)],
    // A run still in progress has no duration yet, only an age.
    ['Duration', 'duration', finished ? between(run.created_at, run.updated_at) : tty ? `${between(run.created_at, new Date(o.nowMs).toISOString())} so far` : '-'],
  ];
  if ((run.error !== undefined && run.error !== null) || run.status === 'failed') {
    rows.push(['Error', 'error', o.theme.c.red(s(run.error))]);
  }
  rows.push(['Operations', 'operations', opsCounts(run.committed_operations)]);
  return rows;
}

/** The memory ids of committed operations, one `+ id` / `~ id` / `- id` line each, at most `max`. */
export function memoryIdLines(ops: CommittedOperations, theme: Theme, max: number, indent: string): string[] {
  const c = theme.c;
  const all = [
    ...ops.created.map((o) => `${c.green('+')} ${sanitize(o.memory_id)}`),
    ...ops.updated.map((o) => `${c.yellow('~')} ${sanitize(o.memory_id)}`),
    ...ops.deleted.map((o) => `${c.red('-')} ${sanitize(o.memory_id)}`),
  ];
  const lines = all.slice(0, max).map((l) => indent + l);
  if (all.length > max) lines.push(`${indent}… ${all.length - max} more (use --json for all)`);
  return lines;
}

/** One run, human layout: aligned rows on a TTY (colour, relative times); key: value lines when piped. */
export function renderRunHuman(run: Run, o: RenderOptions): string {
  const rows = detailRows(run, o);
  const tty = o.format === 'table';
  const width = labelWidth(rows);
  const out = detailLines(rows, o.theme, tty, width);
  if (tty) {
    out.push(...memoryIdLines(run.committed_operations, o.theme, o.maxIds ?? 20, ' '.repeat(width + 2)));
    return out.join('\n') + '\n';
  }
  // Piped: memory ids one per line, so `grep ^created_memory:` lists them.
  const ops = run.committed_operations;
  for (const [kind, list] of [['created', ops.created], ['updated', ops.updated], ['deleted', ops.deleted]] as const) {
    for (const op of list) out.push(`${kind}_memory: ${sanitize(op.memory_id)}`);
  }
  return out.join('\n') + '\n';
}

/** Several runs: JSON array in argument order, NDJSON lines, or human blocks separated by blank lines. */
export function renderRuns(runs: Run[], o: RenderOptions, single: boolean): string {
  if (o.format === 'json') return jsonDocument(single ? runs[0] : runs);
  if (o.format === 'ndjson') return runs.map(ndjsonLine).join('');
  return runs.map((r) => renderRunHuman(r, o)).join('\n');
}
