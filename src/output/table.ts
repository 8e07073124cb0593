import { labelled } from './detail.js';
import type { OutputFormat } from './format.js';
import type { Theme } from './theme.js';

/**
 * Lists as tables: cli-table3 boxes sized to the terminal on a TTY (one column wraps, the
 * others keep their natural width), tab-separated lines without a header when piped (no
 * colour, no box drawing, stable for cut/awk/grep). Values must already be sanitized.
 */

export interface Column<T> {
  header: string;
  /** The plain value (TSV and width computation). */
  value(row: T): string;
  /** The value on a TTY (colour); defaults to `value`. */
  styled?(row: T, theme: Theme): string;
  /** The column that takes the remaining width and wraps. At most one per table. */
  wrap?: boolean;
  align?: 'left' | 'right';
  /** On a TTY, left out when every row's value is '-' (TSV keeps every column, for stable positions). */
  optional?: boolean;
  /** On a TTY too narrow for the table, columns with a drop rank are left out, lowest rank first. */
  drop?: number;
}

/** The narrowest the wrapping column gets before other columns are dropped. */
const MIN_WRAP = 16;

export interface TableOptions {
  format: OutputFormat;
  theme: Theme;
  /** Terminal width (io.columns()). */
  width: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Display width, approximately: code points, with common wide (CJK, emoji) ones counted twice. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s.replace(ANSI, '')) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x300 && cp < 0x370) || cp === 0x200b) continue;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    w += wide ? 2 : 1;
  }
  return w;
}

/** Split at the given display width. */
function splitAt(word: string, width: number): [string, string] {
  let w = 0;
  let i = 0;
  const chars = [...word];
  for (; i < chars.length; i++) {
    const cw = displayWidth(chars[i]!);
    if (w + cw > width) break;
    w += cw;
  }
  if (i === 0) i = 1;
  return [chars.slice(0, i).join(''), chars.slice(i).join('')];
}

/** Word-wrap plain text to `width` columns; words longer than a line are broken. */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    let lineW = 0;
    for (let word of para.split(/ +/)) {
      if (word === '') continue;
      let ww = displayWidth(word);
      if (lineW > 0 && lineW + 1 + ww <= w) {
        line += ' ' + word;
        lineW += 1 + ww;
        continue;
      }
      if (lineW > 0) {
        out.push(line);
        line = '';
        lineW = 0;
      }
      while (ww > w) {
        const [head, rest] = splitAt(word, w);
        out.push(head);
        word = rest;
        ww = displayWidth(word);
      }
      line = word;
      lineW = ww;
    }
    out.push(line);
  }
  return out;
}

export function tsv(cells: string[]): string {
  return cells.map((c) => c.replace(/[\t\r\n]+/g, ' ')).join('\t') + '\n';
}

function stacked<T>(rows: T[], cols: Column<T>[], o: TableOptions): string {
  const label = Math.max(...cols.map((c) => displayWidth(c.header)));
  const room = Math.max(8, o.width - label - 2);
  return rows
    .map((r) =>
      cols
        .map((c) => {
          const [first = '', ...rest] = wrapText(c.value(r), room);
          return [labelled(o.theme, c.header, label, first), ...rest.map((l) => `${' '.repeat(label + 2)}${l}`)].join('\n');
        })
        .join('\n'),
    )
    .join('\n\n') + '\n';
}

/** Render rows; TSV when not on a terminal (format `plain`), boxes on a TTY (records when too narrow). */
export async function renderTable<T>(rows: T[], allCols: Column<T>[], o: TableOptions): Promise<string> {
  if (o.format !== 'table') return rows.map((r) => tsv(allCols.map((c) => c.value(r)))).join('');
  let cols = allCols.filter((c) => !c.optional || rows.some((r) => c.value(r) !== '-'));
  const { default: Table } = await import('cli-table3');
  const PAD = 2;
  const shown = (c: Column<T>, r: T) => (c.styled ? c.styled(r, o.theme) : c.value(r));
  const widthOf = (c: Column<T>) => Math.max(displayWidth(c.header), ...rows.map((r) => displayWidth(shown(c, r)))) + PAD;
  const need = (cs: Column<T>[]) => cs.reduce((sum, c) => sum + (c.wrap ? Math.min(widthOf(c), MIN_WRAP + PAD) : widthOf(c)), cs.length + 1);
  while (need(cols) > o.width) {
    const droppable = cols.filter((c) => c.drop !== undefined).sort((a, b) => a.drop! - b.drop!);
    if (droppable.length === 0) break;
    cols = cols.filter((c) => c !== droppable[0]);
  }
  // Still too wide with every optional column gone (a 30-column terminal): one record per row,
  // `column: value`, wrapped to the width, instead of a box the terminal would shred.
  if (need(cols) > o.width) return stacked(rows, cols, o);
  const natural = cols.map(widthOf);
  const borders = cols.length + 1;
  const wrapIdx = cols.findIndex((c) => c.wrap);
  const widths = [...natural];
  if (wrapIdx >= 0) {
    const others = natural.reduce((s, w, i) => (i === wrapIdx ? s : s + w), 0);
    const room = o.width - borders - others;
    // Nothing left to drop: the wrapping column takes what remains (a narrow column beats overflowing the terminal).
    widths[wrapIdx] = Math.max(8 + PAD, Math.min(natural[wrapIdx]!, room));
  }
  const table = new Table({
    head: cols.map((c) => o.theme.c.bold(c.header)),
    colWidths: widths,
    colAligns: cols.map((c) => c.align ?? 'left'),
    wordWrap: false,
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
  });
  for (const r of rows) {
    table.push(
      cols.map((c, i) => {
        return i === wrapIdx ? wrapText(c.value(r), widths[i]! - PAD).join('\n') : shown(c, r);
      }),
    );
  }
  return table.toString() + '\n';
}
