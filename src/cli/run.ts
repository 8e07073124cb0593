import { setMaxListeners } from 'node:events';
import { CommanderError } from 'commander';
import { EngramError, APIError, UserAbortError } from '../api/errors.js';
import { realClock, type Clock, type Random } from '../core/clock.js';
import type { IOStreams } from '../io/streams.js';
import { colorEnabled } from '../io/streams.js';
import { loadColors, makeTheme } from '../output/theme.js';
import { sanitize } from '../output/sanitize.js';
import { Context, type Deps, type GlobalOptions } from './context.js';
import { ExitCode } from './exit-codes.js';
import { makeProgram, type Action } from './program.js';

export interface RunCliDeps {
  io: IOStreams;
  clock?: Clock;
  random?: Random;
  signal?: AbortSignal;
}

/**
 * Run the CLI on `argv` (without node and script) and return the exit code. Never exits the
 * process and never touches `process`: main.ts does that. Tests call this in-process.
 */
export async function runCli(argv: string[], d: RunCliDeps): Promise<number> {
  const deps: Deps = {
    io: d.io,
    clock: d.clock ?? realClock,
    random: d.random ?? Math.random,
    signal: d.signal ?? new AbortController().signal,
  };
  // Every request and every backoff sleep listens on this signal, and removes its listener
  // when done: many in flight at once (runs wait on 200 ids) is normal, not a leak.
  setMaxListeners(0, deps.signal);
  let chosen: { action: Action; globals: GlobalOptions } | undefined;
  const program = makeProgram(deps, (action, globals) => {
    chosen = { action, globals };
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) return ExitCode.OK;
      return ExitCode.USAGE; // commander already printed "error: …" (with a suggestion when it has one)
    }
    return reportError(err, deps, undefined);
  }
  if (!chosen) return ExitCode.OK;
  let ctx: Context | undefined;
  try {
    ctx = new Context(deps, chosen.globals);
    ctx.validateGlobals();
    const mode = ctx.colorMode();
    if (colorEnabled(mode, deps.io.stdoutTTY, deps.io.env) || colorEnabled(mode, deps.io.stderrTTY, deps.io.env)) await loadColors();
    return await chosen.action(ctx);
  } catch (err) {
    return reportError(err, deps, ctx);
  }
}

/** One place turns errors into a message on stderr and an exit code. */
export function reportError(err: unknown, deps: Deps, ctx: Context | undefined): number {
  const { io } = deps;
  const theme = makeTheme(colorEnabled((ctx?.globals.color as 'auto') ?? 'auto', io.stderrTTY, io.env));
  const key = io.env.ENGRAM_API_KEY?.trim();
  const scrub = (s: string) => (key && key.length >= 4 ? s.split(key).join('[REDACTED]') : s);
  const write = (s: string) => io.stderr.write(scrub(s) + '\n');
  if (err instanceof EngramError) {
    if (err instanceof UserAbortError) {
      // The reader of our stdout went away (`| head`): what it wanted was delivered; say nothing.
      // Commands that change things (bulk add) report and return 141 themselves.
      return err.signalName === 'SIGPIPE' ? ExitCode.OK : err.exitCode;
    }
    write(`${theme.c.red('error:')} ${sanitize(err.message)}`);
    for (const h of err.hints) write(`  ${sanitize(h)}`);
    if (err instanceof APIError && err.requestId) write(`  request id: ${sanitize(err.requestId)}`);
    if (ctx?.debugOn && err.stack) write(theme.c.dim(err.stack));
    return err.exitCode;
  }
  const e = err as Error;
  write(`${theme.c.red('error:')} unexpected: ${sanitize(e?.message ?? String(err))}`);
  write('  this is a bug in engram; please report it with the output of the same command run with --debug');
  if (ctx?.debugOn && e?.stack) write(theme.c.dim(e.stack));
  return ExitCode.UNEXPECTED;
}
