import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { FakeClock } from '../../src/core/fake-clock.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { cli, KEY, type CliResult, type RunOptions } from './cli.js';

export interface Fixture {
  emu: Emulator;
  clock: FakeClock;
  /** Env for the CLI pointed at this emulator with the test key. */
  env: Record<string, string>;
  /** POST to the emulator's control surface. */
  control(path: string, body?: unknown, method?: string): Promise<unknown>;
  /** Add through the API directly (not the CLI) and return the run id. */
  addRaw(body: unknown, key?: string): Promise<string>;
  /** The real CLI in-process against this emulator, on its clock (`o.env` replaces the env). */
  run(argv: string[], o?: RunOptions): Promise<CliResult>;
  /**
   * Run argv and check the bad-input contract: exit 2, nothing on stdout, one line on stderr
   * matching `message` (no stack trace), and not a single request at the emulator. Returns stderr.
   */
  refused(argv: string[], message?: RegExp, o?: RunOptions): Promise<string>;
}

/**
 * One emulator on an ephemeral loopback port per test file, sharing a virtual clock with the
 * in-process CLI. Faults and state are reset after each test.
 */
export function useEmulator(opts: { runTimeMs?: number } = {}): Fixture {
  const f = {} as Fixture;
  f.run = (argv, o = {}) => cli(argv, { env: f.env, clock: f.clock, ...o });
  f.refused = async (argv, message = /^error: /, o = {}) => {
    const before = f.emu.stats().requests;
    const r = await f.run(argv, o);
    expect(r.code, `${argv.join(' ')}\n${r.stderr}`).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(f.emu.stats().requests, 'nothing was sent').toBe(before);
    return r.stderr;
  };
  beforeAll(async () => {
    f.clock = new FakeClock();
    f.emu = await startEmulator({ port: 0, clock: f.clock, runTimeMs: opts.runTimeMs ?? 2000 });
    f.env = { ENGRAM_BASE_URL: f.emu.url, ENGRAM_API_KEY: KEY };
    f.control = async (path, body, method = 'POST') => {
      const res = await fetch(f.emu.url + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 400) throw new Error(`control ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    f.addRaw = async (body, key = KEY) => {
      const res = await fetch(f.emu.url + '/v1/memories', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { run_id: string };
      if (res.status !== 200) throw new Error(`add: ${res.status} ${JSON.stringify(json)}`);
      return json.run_id;
    };
  });
  afterEach(async () => {
    // Like consume-once HTTP stubs: a scripted fault that no request consumed means the test
    // did not exercise what it meant to. Tests that script open-ended faults clear them.
    const { faults } = (await f.control('/_emulator/faults', undefined, 'GET')) as { faults: Array<{ path?: string; remaining: number }> };
    await f.control('/_emulator/faults', undefined, 'DELETE');
    if (faults.length > 0) throw new Error(`unused emulator faults: ${JSON.stringify(faults)}`);
  });
  afterAll(async () => {
    await f.emu?.close();
  });
  return f;
}
