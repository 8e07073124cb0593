import { setMaxListeners } from 'node:events';
import { CommanderError } from 'commander';
import { APIError, ConnectionError, EngramError, TimeoutError, UserAbortError } from '../api/errors.js';
import { realClock, type Clock, type Random } from '../core/clock.js';
import type { IOStreams } from '../io/streams.js';
import { colorEnabled } from '../io/streams.js';
import { Secrets } from '../io/redact.js';
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
  // `engram` or `engram runs` alone: the help, on stdout (commander would print it to stderr).
  const noun = argv.length === 1 ? program.commands.find((c) => c.name() === argv[0] && c.commands.length > 0) : undefined;
  if (argv.length === 0 || noun) {
    (noun ?? program).outputHelp();
    return ExitCode.OK;
  }
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

/** What to do about the API and network errors people meet most; the server's text says what happened. */
export function howToFix(err: EngramError): string | undefined {
  if (err instanceof TimeoutError) return 'the service was slow to answer: try again, or raise --request-timeout';
  if (err instanceof ConnectionError) return 'check --base-url / ENGRAM_BASE_URL and the network (engram emulator for offline use)';
  if (!(err instanceof APIError)) return undefined;
  const detail = err.detail.toLowerCase();
  switch (err.status) {
    case 401:
      return 'check the key: engram auth status shows which key is used and whether it is valid';
    case 403:
      return 'each API key is one project: use the key the run or memory was created with';
    case 413:
      return 'the request is too large for the service: split the input (e.g. one add per line with --jsonl)';
    case 429:
      return "the plan's monthly run limit is used up; nothing was queued (the console shows when it resets)";
  }
  if (/user_id is required|user-scoped/.test(detail)) return 'pass --user-id';
  if (/(topic|group) ".*" not found/.test(detail)) return 'group and topic names are case-sensitive: engram groups list shows them';
  if (/user ".*" not found/.test(detail)) return 'no memories were ever added for that user (user ids are not case-sensitive)';
  return undefined;
}

/** One place turns errors into a message on stderr and an exit code. */
export function reportError(err: unknown, deps: Deps, ctx: Context | undefined): number {
  const { io } = deps;
  const theme = makeTheme(colorEnabled((ctx?.globals.color as 'auto') ?? 'auto', io.stderrTTY, io.env));
  // With a context, stderr already scrubs every key it learned (redactStream). Before one exists
  // (a failure while parsing), the only key there can be is the environment's.
  const early = ctx ? undefined : new Secrets();
  early?.add(io.env.ENGRAM_API_KEY);
  const write = (s: string) => io.stderr.write((early ? early.scrub(s) : s) + '\n');
  if (err instanceof EngramError) {
    if (err instanceof UserAbortError) {
      // The reader of our stdout went away (`| head`): what it wanted was delivered; say nothing.
      // Commands that change things (bulk add) report and return 141 themselves.
      return err.signalName === 'SIGPIPE' ? ExitCode.OK : err.exitCode;
    }
    write(`${theme.c.red('error:')} ${sanitize(err.message)}`);
    for (const h of err.hints) write(`  ${sanitize(h)}`);
    const fix = howToFix(err);
    if (fix) write(`  ${fix}`);
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
