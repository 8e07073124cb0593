import { UserAbortError } from '../api/errors.js';
import { systemIO } from '../io/streams.js';
import { ExitCode } from './exit-codes.js';
import { runCli } from './run.js';

/** The only code that touches `process`: signals, broken pipes and the exit code. */
export async function main(argv: string[]): Promise<void> {
  const io = systemIO();
  const ctrl = new AbortController();
  let exitCode: number | undefined;
  let interrupts = 0;
  const onSignal = (name: 'SIGINT' | 'SIGTERM') => {
    const code = name === 'SIGINT' ? ExitCode.SIGINT : ExitCode.SIGTERM;
    if (++interrupts > 1) process.exit(code); // a second Ctrl-C leaves at once
    ctrl.abort(new UserAbortError(name));
    // Whatever is in flight gets a moment to stop cleanly (cursor, hint), then we leave.
    setTimeout(() => process.exit(code), 3000).unref();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // `engram … | head -1`: the reader went away. A command that already finished leaves with its
  // own code; one still working (a bulk add, a wait) is stopped like an interrupt, so it records
  // what it did and says what was left (stderr), and ends 141. No stack trace either way.
  let stdoutClosed = false;
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stdoutClosed = true;
    if (exitCode !== undefined) process.exit(exitCode);
    if (!ctrl.signal.aborted) ctrl.abort(new UserAbortError('SIGPIPE'));
    // Adds already sent may still be on their way back (up to one request timeout, 30 s by
    // default): give them time to be recorded; this is only a net for a command that hangs.
    setTimeout(() => process.exit(ExitCode.SIGPIPE), 60_000).unref();
  };
  process.stdout.on('error', onPipeError);
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  exitCode = await runCli(argv.slice(2), { io, signal: ctrl.signal });
  // Let stdout drain (pipes may be asynchronous), then leave even if sockets linger.
  if (stdoutClosed) process.exit(exitCode);
  process.stdout.write('', () => process.exit(exitCode));
}
