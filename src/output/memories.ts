import type { Group, Memory } from '../api/types.js';
import type { OutputFormat } from './format.js';
import { detailLines, labelled, labelWidth, type DetailRow } from './detail.js';
import { orDash as s, sanitize } from './sanitize.js';
import { renderTable, wrapText, type Column } from './table.js';
import type { Theme } from './theme.js';
import { formatTimestamp, tableTimestamp } from './time.js';

export interface MemoryRenderOptions {
  format: OutputFormat;
  theme: Theme;
  width: number;
  nowMs: number;
}

export function propsText(p: Record<string, string> | undefined | null): string {
  if (!p || typeof p !== 'object') return '-';
  const entries = Object.entries(p);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${sanitize(k)}=${sanitize(String(v))}`).join(',');
}

export function scoreText(score: unknown, tty: boolean): string {
  if (typeof score !== 'number') return '-';
  return tty ? score.toFixed(3) : String(score);
}

/** One memory: aligned rows on a TTY (content wrapped under its label), `key: value` lines when piped. */
export function renderMemoryDetail(m: Memory, o: MemoryRenderOptions): string {
  const tty = o.format === 'table';
  const rows: DetailRow[] = [
    ['ID', 'id', s(m.id)],
    ['Topic', 'topic', s(m.topic)],
    ['Group', 'group', s(m.group)],
    ['User', 'user_id', s(m.user_id)],
    ['Properties', 'properties', propsText(m.properties)],
    ['Created', 'created_at', formatTimestamp(m.created_at, o.nowMs, tty)],
    ['Updated', 'updated_at', formatTimestamp(m.updated_at, o.nowMs, tty)],
    ['Project ID', 'project_id', s(m.project_id)],
  ];
  if (typeof m.score === 'number') rows.push(['Score', 'score', scoreText(m.score, tty)]);
  if (!tty) return [...detailLines(rows, o.theme, false), `content: ${s(m.content)}`].join('\n') + '\n';
  const width = labelWidth(rows, 'Content');
  const out = detailLines(rows, o.theme, true, width);
  const lines = wrapText(sanitize(String(m.content ?? ''), { keepNewlines: true }), Math.max(20, o.width - width - 2));
  out.push(labelled(o.theme, 'Content', width, lines[0] ?? ''));
  for (const l of lines.slice(1)) out.push(`${' '.repeat(width + 2)}${l}`);
  return out.join('\n') + '\n';
}

/** search: score, topic, content, id. */
export function searchColumns(): Column<Memory>[] {
  return [
    { header: 'score', value: (m) => scoreText(m.score, false), styled: (m) => scoreText(m.score, true), align: 'right' },
    { header: 'topic', value: (m) => s(m.topic), drop: 1 },
    { header: 'content', value: (m) => s(m.content), wrap: true },
    { header: 'id', value: (m) => s(m.id) },
  ];
}

/** list: topic, user, updated, content, id. */
export function listColumns(o: MemoryRenderOptions): Column<Memory>[] {
  const tty = o.format === 'table';
  return [
    { header: 'topic', value: (m) => s(m.topic) },
    { header: 'user', value: (m) => s(m.user_id), optional: true, drop: 3 },
    { header: 'properties', value: (m) => propsText(m.properties), optional: true, drop: 1 },
    { header: 'updated', value: (m) => tableTimestamp(m.updated_at, o.nowMs, tty), drop: 2 },
    { header: 'content', value: (m) => s(m.content), wrap: true },
    { header: 'id', value: (m) => s(m.id) },
  ];
}

interface TopicRow {
  group: Group;
  topic: Group['topics'][number] | undefined;
}

/** groups list: on a TTY a heading per group and a table of its topics; piped, one TSV line per topic. */
export async function renderGroups(groups: Group[], o: MemoryRenderOptions): Promise<string> {
  const yes = (b: boolean | undefined) => (b === undefined ? '-' : b ? 'yes' : 'no');
  const props = (r: TopicRow) =>
    r.topic && r.topic.scoping.scope_properties.length > 0 ? r.topic.scoping.scope_properties.map((p) => sanitize(p)).join(',') : '-';
  const topicCols: Column<TopicRow>[] = [
    { header: 'topic', value: (r) => s(r.topic?.topic_name) },
    { header: 'user scoped', value: (r) => yes(r.topic?.scoping.user_scoped), drop: 2 },
    { header: 'scope properties', value: props },
    { header: 'bounded', value: (r) => yes(r.topic?.is_bounded), drop: 1 },
    { header: 'description', value: (r) => s(r.topic?.description), wrap: true },
  ];
  const rowsOf = (g: Group): TopicRow[] => (g.topics.length === 0 ? [{ group: g, topic: undefined }] : g.topics.map((t) => ({ group: g, topic: t })));
  if (o.format !== 'table') {
    const cols: Column<TopicRow>[] = [{ header: 'group', value: (r) => s(r.group.name) }, { header: 'group id', value: (r) => s(r.group.group_id) }, ...topicCols];
    return renderTable(groups.flatMap(rowsOf), cols, o);
  }
  const parts: string[] = [];
  for (const g of groups) {
    parts.push(`${o.theme.c.bold(s(g.name))}  ${o.theme.c.dim(s(g.group_id))}\n`);
    parts.push(g.topics.length === 0 ? '  (no topics)\n' : await renderTable(rowsOf(g), topicCols, o));
  }
  return parts.join('\n');
}
