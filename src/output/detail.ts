import type { Theme } from './theme.js';

/**
 * A record shown as rows: on a terminal `Label  value` with the labels aligned (bold); piped,
 * `key: value` lines whose keys are the JSON field names, stable for grep and cut.
 */
export type DetailRow = readonly [label: string, key: string, value: string];

/** The label column's width: the longest of the rows' labels and any `extra` label shown below them. */
export function labelWidth(rows: readonly DetailRow[], ...extra: string[]): number {
  return Math.max(...rows.map(([label]) => label.length), ...extra.map((l) => l.length));
}

/** A terminal line: the label padded to `width`, two spaces, the value. */
export function labelled(theme: Theme, label: string, width: number, value: string): string {
  return `${theme.c.bold(label.padEnd(width))}  ${value}`;
}

/** The rows as lines, aligned on a terminal (`tty`), `key: value` otherwise. */
export function detailLines(rows: readonly DetailRow[], theme: Theme, tty: boolean, width = labelWidth(rows)): string[] {
  return rows.map(([label, key, value]) => (tty ? labelled(theme, label, width, value) : `${key}: ${value}`));
}
