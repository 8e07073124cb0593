import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/run.js';
import { FakeClock } from '../../src/core/fake-clock.js';
import { seededRandom, type Clock } from '../../src/core/clock.js';
import { testIO, type TestIOOptions } from './io.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  stderrBytes: Buffer;
}

export interface RunOptions extends TestIOOptions {
  clock?: Clock;
  signal?: AbortSignal;
  seed?: number;
}

/** Run the real CLI in-process with in-memory streams and (by default) a virtual clock. */
export async function cli(argv: string[], o: RunOptions = {}): Promise<CliResult> {
  // Config and run history never touch the real home directory in tests.
  const env = { XDG_CONFIG_HOME: scratchDir('config'), XDG_STATE_HOME: scratchDir('state'), ...(o.env ?? {}) };
  const io = testIO({ ...o, env });
  const code = await runCli(argv, {
    io,
    clock: o.clock ?? new FakeClock(),
    random: seededRandom(o.seed ?? 42),
    signal: o.signal,
  });
  return { code, stdout: io.out.text, stderr: io.err.text, stdoutBytes: io.out.bytes, stderrBytes: io.err.bytes };
}

export const KEY = 'eng_test_secret_key_0123456789abcdef';

let scratch: string | undefined;
/** A per-process temp directory for XDG dirs that a test did not set itself. */
export function scratchDir(name: string): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'engram-test-'));
  return join(scratch, name);
}

/** A loopback URL where nothing listens (connection refused). */
export async function closedPortUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
