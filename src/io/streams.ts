import type { Readable, Writable } from 'node:stream';
import { isatty } from 'node:tty';

export const COLOR_MODES = ['auto', 'always', 'never'] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

/**
 * The only door to the terminal. Commands write through this; tests build one over
 * in-memory streams and choose which streams are TTYs.
 */
export interface IOStreams {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinTTY: boolean;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  env: Record<string, string | undefined>;
  /** Terminal width for stdout tables (COLUMNS wins, then the TTY, then 80). */
  columns(): number;
}

export function systemIO(): IOStreams {
  return {
    // process.stdin is built on first access (a few ms for a pipe or a terminal): only
    // commands that read standard input pay for it.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    stdinTTY: isatty(0),
    stdoutTTY: !!process.stdout.isTTY,
    stderrTTY: !!process.stderr.isTTY,
    env: process.env,
    columns() {
      const fromEnv = Number(process.env.COLUMNS);
      if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
      return process.stdout.columns || process.stderr.columns || 80;
    },
  };
}

/**
 * Colour per stream: --color always/never wins; then NO_COLOR (non-empty) disables,
 * FORCE_COLOR (non-empty, not "0") forces, TERM=dumb disables; otherwise colour on a TTY only.
 */
export function colorEnabled(mode: ColorMode, isTTY: boolean, env: Record<string, string | undefined>): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

/**
 * Spinners need a TTY that can redraw, with a known width: a pseudo-terminal that reports
 * 0 columns would make a spinner's line arithmetic explode, so it gets plain lines instead.
 */
export function canAnimate(io: IOStreams): boolean {
  const cols = (io.stderr as { columns?: number }).columns ?? 0;
  return io.stderrTTY && io.env.TERM !== 'dumb' && !io.env.CI && cols > 0;
}
