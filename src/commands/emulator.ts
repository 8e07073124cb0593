import { UsageError } from '../api/errors.js';
import { LOOPBACK, type Context } from '../cli/context.js';
import { parseDuration, parseIntInRange } from '../cli/flags.js';

export interface EmulatorFlags {
  host: string;
  port: string;
  runTime: string;
  data?: string;
  key?: string[];
}


/** `engram emulator`: serve until Ctrl-C / SIGTERM, then close cleanly and exit 0. */
export async function emulatorCommand(ctx: Context, f: EmulatorFlags): Promise<number> {
  const port = parseIntInRange(f.port, '--port', 0, 65535);
  const runTimeMs = parseDuration(f.runTime, '--run-time');
  for (const k of f.key ?? []) {
    if (!/^eng_\S+$/.test(k)) throw new UsageError(`--key must look like eng_…`, 'the emulator only accepts keys that start with eng_');
  }
  if (!LOOPBACK.test(f.host)) {
    ctx.warn(`listening on ${f.host}, not loopback: anyone who can reach this address can use the emulator`);
  }
  const { startEmulator } = await import('../emulator/server.js');
  let emu;
  try {
    emu = await startEmulator({
      host: f.host,
      port,
      runTimeMs,
      clock: ctx.clock,
      dataFile: f.data,
      keys: f.key,
      log: ctx.debugOn ? (l: string) => ctx.debug(l) : undefined,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${f.host} is already in use`, 'pick another with --port, or --port 0 for any free port');
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on ${f.host}: ${code}`);
    if (code === 'EDATAFILE') throw new UsageError((err as Error).message);
    throw err;
  }
  // Listening on every address (0.0.0.0, ::): advertise loopback, the address the CLI will
  // send a key to over plain http.
  const url = /^(0\.0\.0\.0|::|\[::\])$/.test(f.host) ? `http://127.0.0.1:${emu.port}` : emu.url;
  ctx.io.stdout.write(url + '\n');
  ctx.info(
    `engram emulator listening on ${emu.url} (runs complete after ${f.runTime}${f.data ? `, state in ${f.data}` : ''})\n` +
      `  export ENGRAM_BASE_URL=${url} ENGRAM_API_KEY=eng_local_demo\n` +
      `  Ctrl-C to stop`,
  );
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await emu.close();
  ctx.info('emulator stopped');
  return 0;
}
