import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProgram } from '../../src/cli/program.js';
import { runCli } from '../../src/cli/run.js';
import { seededRandom } from '../../src/core/clock.js';
import { FakeClock } from '../../src/core/fake-clock.js';
import { startEmulator } from '../../src/emulator/server.js';
import { cli, closedPortUrl } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';
import { testIO } from '../helpers/io.js';

// The API key never leaves: not on stdout, not on stderr (even with --debug, even when the
// server echoes it back in an error), not in any file the CLI writes (history, exports; the
// config file holds it only as a profile's api_key). Every command is run, enumerated from the
// commander tree, so a new command is covered the day it is added.

const SECRET = 'eng_live_5ecret_Q9x7Zk2mP4vR8tW1yB6nD3';
const SECRET_PART = SECRET.slice(4);
const emu = useEmulator({ runTimeMs: 2000 });
const root = mkdtempSync(join(tmpdir(), 'engram-secrets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dirs = { HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'config'), XDG_STATE_HOME: join(root, 'state') };
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });

/** Every leaf command, as its path of names (e.g. ['memories', 'add']). */
function commandPaths(): string[][] {
  const program = makeProgram({ io: testIO(), clock: new FakeClock(), random: Math.random, signal: new AbortController().signal }, () => {});
  const out: string[][] = [];
  const walk = (c: Command, path: string[]) => {
    if (c.commands.length === 0) out.push(path);
    for (const sub of c.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return out;
}

function leaf(path: string[]): Command {
  let c = makeProgram({ io: testIO(), clock: new FakeClock(), random: Math.random, signal: new AbortController().signal }, () => {});
  for (const name of path) c = c.commands.find((x) => x.name() === name)!;
  return c;
}

interface Ids {
  run: string;
  memory: string;
}

/** Values for the command's required arguments, by argument name. */
function argumentsFor(path: string[], ids: Ids): string[] {
  const out: string[] = [];
  for (const a of leaf(path).registeredArguments) {
    if (!a.required) continue;
    const name = a.name();
    out.push(
      /run/.test(name) ? ids.run : /memory|id/.test(name) ? ids.memory : /query/.test(name) ? 'tea' : /text/.test(name) ? 'The user likes tea.' : /shell/.test(name) ? 'bash' : 'x',
    );
  }
  return out;
}

/** Flags some commands need to get past their own checks (a usage error sends nothing, which proves little). */
const EXTRA: Record<string, (tmp: string) => string[]> = {
  'runs wait': () => ['--timeout', '30s'],
  'memories add': () => ['--user-id', 'sec-user', 'The user likes tea.'],
  'memories get': () => ['--user-id', 'sec-user'],
  'memories delete': () => ['--user-id', 'sec-user', '--yes'],
  'memories search': () => ['--user-id', 'sec-user'],
  'memories list': () => ['--user-id', 'sec-user'],
  'memories export': (tmp) => ['--user-id', 'sec-user', '--out', join(tmp, 'export.jsonl')],
  emulator: () => ['--port', '0'],
  help: () => ['exit-codes'],
  completion: () => [],
};

type KeySource = 'env' | 'file' | 'profile';

interface Scenario {
  name: string;
  fault?: Record<string, unknown>;
  unreachable?: boolean;
}

/** Faults on every API path, each echoing the key back the way a careless server might. */
const SCENARIOS: Scenario[] = [
  { name: 'success' },
  { name: '500 echoing the key', fault: { path: '/v1/', count: 10_000, status: 500, body: { detail: `internal error for Bearer ${SECRET}`, errors: [{ location: 'header.Authorization', message: `bad ${SECRET_PART}` }] } } },
  { name: '401 echoing the key', fault: { path: '/v1/', count: 10_000, status: 401, body: { detail: `invalid API key ${SECRET}` }, headers: { 'X-Echo': SECRET } } },
  { name: '404 echoing the key', fault: { path: '/v1/', count: 10_000, status: 404, body: `not found for ${SECRET}\n` } },
  { name: 'HTML 502 echoing the key', fault: { path: '/v1/', count: 10_000, status: 502, body: `<html><title>502 for ${SECRET}</title></html>`, content_type: 'text/html' } },
  { name: 'a truncated echo', fault: { path: '/v1/', count: 10_000, action: 'truncate', body: `{"run_id": "${SECRET}` } },
  { name: 'dropped connections', fault: { path: '/v1/', count: 10_000, action: 'drop' } },
  { name: 'unreachable', unreachable: true },
];

let runId = '';
let memoryId = '';
async function ids(): Promise<Ids> {
  if (!runId) {
    runId = await emu.addRaw({ input: { string: { content: ['The user likes tea.'] } }, user_id: 'sec-user' }, SECRET);
    emu.clock.advance(2500);
    const res = await fetch(`${emu.emu.url}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${SECRET}` } });
    memoryId = ((await res.json()) as { committed_operations: { created: Array<{ memory_id: string }> } }).committed_operations.created[0]!.memory_id;
  }
  return { run: runId, memory: memoryId };
}

/** Write a config with the key in a profile (what `auth login` leaves), 0600. */
function writeProfile(): void {
  const dir = join(dirs.XDG_CONFIG_HOME, 'engram');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ profiles: { default: { api_key: SECRET } } }), { mode: 0o600 });
}

/** Run one command; the emulator command is stopped as soon as it prints its URL. */
async function runOne(argv: string[], env: Record<string, string>, stdin?: string) {
  const io = testIO({ env: { ...dirs, ...env }, stdin });
  const ctrl = new AbortController();
  if (argv[0] === 'emulator') {
    const write = io.out.write.bind(io.out);
    io.out.write = ((chunk: unknown, ...rest: unknown[]) => {
      const r = (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      if (String(chunk).startsWith('http://')) ctrl.abort();
      return r;
    }) as typeof io.out.write;
  }
  const code = await runCli(argv, { io, clock: emu.clock, random: seededRandom(7), signal: ctrl.signal });
  return { code, stdout: io.out.bytes, stderr: io.err.bytes };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every byte of every file the CLI wrote; a config file may hold the key only as a profile's api_key. */
function scanFiles(where: string): void {
  for (const f of [...Object.values(dirs).flatMap(filesUnder), ...filesUnder(join(root, 'out'))]) {
    let text = readFileSync(f, 'utf8');
    if (f.endsWith(join('engram', 'config.json'))) {
      const cfg = JSON.parse(text) as { profiles: Record<string, { api_key?: string }> };
      for (const p of Object.values(cfg.profiles)) delete p.api_key;
      text = JSON.stringify(cfg);
      expect(statSync(f).mode & 0o777, `${f} mode`).toBe(0o600);
    }
    expect(text.includes(SECRET_PART), `${where}: the key is in ${f}`).toBe(false);
  }
}

function noKey(bytes: Buffer, what: string): void {
  expect(bytes.includes(SECRET_PART), `${what} holds the key:\n${bytes.toString()}`).toBe(false);
}

describe('the API key appears in no output and no file', () => {
  const paths = commandPaths();

  it('the command tree is enumerated (and the recipes name only real commands)', () => {
    const names = paths.map((p) => p.join(' '));
    expect(names).toEqual(expect.arrayContaining(['runs get', 'runs wait', 'memories add', 'emulator']));
    for (const k of Object.keys(EXTRA)) expect(names, `EXTRA["${k}"] is not a command`).toContain(k);
  });

  const sources: KeySource[] = ['env', 'file', 'profile'];
  for (const scenario of SCENARIOS) {
    for (const source of sources) {
      if (source !== 'env' && !['success', '500 echoing the key', '401 echoing the key'].includes(scenario.name)) continue;
      it(`every command, --debug, ${scenario.name}, key from ${source}`, async () => {
        const id = await ids();
        const out = join(root, 'out');
        mkdirSync(out, { recursive: true });
        const keyFile = join(root, 'key.txt');
        writeFileSync(keyFile, SECRET + '\n', { mode: 0o600 });
        const base = scenario.unreachable ? await closedPortUrl() : emu.emu.url;
        if (scenario.fault) await emu.control('/_emulator/faults', scenario.fault);
        let ran = 0;
        try {
          for (const path of paths) {
            if (source === 'profile') writeProfile();
            const name = path.join(' ');
            const argv = [...path, ...argumentsFor(path, id), ...(EXTRA[name]?.(out) ?? []), '--debug'];
            const env: Record<string, string> = { ENGRAM_BASE_URL: base, ENGRAM_WAIT_TIMEOUT: '30s' };
            if (source === 'env') env.ENGRAM_API_KEY = SECRET;
            if (source === 'file' && name !== 'auth login') argv.push('--api-key-file', keyFile);
            const r = await runOne(argv, env, name === 'auth login' ? SECRET + '\n' : undefined);
            ran++;
            const where = `${name} (${scenario.name}, key from ${source}, exit ${r.code})`;
            noKey(r.stdout, `stdout of ${where}`);
            noKey(r.stderr, `stderr of ${where}`);
            expect(r.code, `${where}: ${r.stderr.toString()}`).not.toBe(1); // never a crash
            scanFiles(where);
          }
        } finally {
          if (scenario.fault) await emu.control('/_emulator/faults', undefined, 'DELETE');
        }
        expect(ran).toBe(paths.length);
      });
    }
  }

  it('--debug shows the Authorization header redacted, and the server\'s echo of the key is redacted too', async () => {
    const id = await ids();
    await emu.control('/_emulator/faults', { method: 'GET', path: '/v1/runs/', count: 3, status: 500, body: { detail: `no luck with ${SECRET}` }, headers: { 'X-Echo': SECRET } });
    const r = await cli(['runs', 'get', id.run, '--debug'], { env: { ...emu.env, ENGRAM_API_KEY: SECRET }, clock: emu.clock });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('Authorization: Bearer [REDACTED]');
    expect(r.stderr).toMatch(/x-echo: \[REDACTED\]/);
    expect(r.stderr).toMatch(/^error: 500 no luck with \[REDACTED\]$/m);
  });
});

describe('plain http only to loopback', () => {
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  it.each([
    ['http://example.com', 'example.com'],
    ['http://127.0.0.1.nip.io:4680', '127.0.0.1.nip.io:4680'],
    ['http://localhost.evil.test', 'localhost.evil.test'],
    ['http://127.0.0.1@evil.test', 'evil.test'],
    ['http://0.0.0.0:4680', '0.0.0.0:4680'],
  ])('%s is refused before any request (no DNS, nothing sent)', async (url, host) => {
    const err = await emu.refused(['runs', 'get', 'x'], /^error: refusing/, { env: { ...emu.env, ENGRAM_BASE_URL: url } });
    expect(err).toBe(`error: refusing to send the API key over plain http to ${host}; use https://, or pass --insecure if you really mean it\n`);
  });

  it('loopback spellings are allowed (127.x, localhost, [::1], 127.1)', async () => {
    const port = new URL(emu.emu.url).port;
    for (const url of [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://127.1:${port}`, `HTTP://LOCALHOST:${port}/v1`]) {
      const r = await cli(['groups', 'list', '--json'], { env: { ...emu.env, ENGRAM_BASE_URL: url }, clock: emu.clock });
      expect(r.code, `${url}: ${r.stderr}`).toBe(0);
    }
    const v6 = await emu.run(['groups', 'list', '--base-url', 'http://[::1]:1']);
    expect(v6.code).toBe(7); // allowed: it tried to connect
  });

  it.skipIf(!lan)('a non-loopback address of this machine: refused from flag, env and profile; --insecure allows it', async () => {
    const clock = new FakeClock();
    const far = await startEmulator({ host: '0.0.0.0', port: 0, clock });
    try {
      const url = `http://${lan}:${far.port}`;
      const profileHome = mkdtempSync(join(tmpdir(), 'engram-sec-prof-'));
      mkdirSync(join(profileHome, 'engram'), { recursive: true });
      writeFileSync(join(profileHome, 'engram', 'config.json'), JSON.stringify({ profiles: { default: { api_key: SECRET, base_url: url } } }), { mode: 0o600 });
      for (const [argv, env] of [
        [['groups', 'list', '--base-url', url], { ENGRAM_API_KEY: SECRET }],
        [['groups', 'list'], { ENGRAM_API_KEY: SECRET, ENGRAM_BASE_URL: url }],
        [['groups', 'list'], { XDG_CONFIG_HOME: profileHome }],
      ] as Array<[string[], Record<string, string>]>) {
        const r = await cli(argv, { env, clock });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/refusing to send the API key over plain http/);
      }
      expect(far.stats().requests).toBe(0);
      const ok = await cli(['groups', 'list', '--base-url', url, '--insecure', '--json'], { env: { ENGRAM_API_KEY: SECRET }, clock });
      expect(ok.code, ok.stderr).toBe(0);
      expect(far.stats().requests).toBe(1);
      rmSync(profileHome, { recursive: true, force: true });
    } finally {
      await far.close();
    }
  });
});

describe('config file permissions', () => {
  it('auth login writes the config 0600 in a 0700 directory, and a rewrite keeps 0600', async () => {
    const home = mkdtempSync(join(tmpdir(), 'engram-sec-cfg-'));
    const env = { ENGRAM_BASE_URL: emu.emu.url, XDG_CONFIG_HOME: home };
    const login = await cli(['auth', 'login'], { env, clock: emu.clock, stdin: SECRET + '\n' });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout + login.stderr).not.toContain(SECRET_PART);
    const file = join(home, 'engram', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'engram')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8')).profiles.default.api_key).toBe(SECRET);
    chmodSync(file, 0o644);
    const logout = await cli(['auth', 'logout'], { env, clock: emu.clock });
    expect(logout.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600); // rewritten atomically with the right mode
    expect(readFileSync(file, 'utf8')).not.toContain(SECRET_PART);
    rmSync(home, { recursive: true, force: true });
  });

  it.each([0o644, 0o640, 0o604])('warns when the config file is readable by others (mode %o), naming the fix', async (mode) => {
    const home = mkdtempSync(join(tmpdir(), 'engram-sec-cfg-'));
    mkdirSync(join(home, 'engram'));
    const file = join(home, 'engram', 'config.json');
    writeFileSync(file, JSON.stringify({ profiles: { default: { api_key: SECRET, base_url: emu.emu.url } } }));
    chmodSync(file, mode);
    for (const argv of [['auth', 'status'], ['groups', 'list', '--json']]) {
      const r = await cli(argv, { env: { XDG_CONFIG_HOME: home }, clock: emu.clock });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`warning: the config file ${file} is readable by others (mode 0${mode.toString(8)}); fix with: chmod 600 ${file}`);
      expect(r.stdout + r.stderr).not.toContain(SECRET_PART);
    }
    chmodSync(file, 0o600);
    const quietNow = await cli(['auth', 'status'], { env: { XDG_CONFIG_HOME: home }, clock: emu.clock });
    expect(quietNow.stderr).not.toMatch(/readable by others/);
    rmSync(home, { recursive: true, force: true });
  });
});
