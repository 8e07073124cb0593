import { spawn, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { KEY } from '../helpers/cli.js';
import { ENGRAM_BIN } from '../helpers/bin.js';

// The real binary (bin/engram.cjs → dist/) in hostile environments: no locale, a tiny or dumb
// terminal, no HOME, a read-only HOME, a reader that goes away (| head -1), huge input. Each
// either works or says why, quietly and with the right exit code. Processes are awaited on
// their exit events; nothing here sleeps.

const bin = ENGRAM_BIN;
const tmp = mkdtempSync(join(tmpdir(), 'engram-env-'));
chmodSync(tmp, 0o755); // the unprivileged user below must reach its sub-directories
let emu: Emulator;
let base: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, runTimeMs: 50 });
  mkdirSync(join(tmp, 'xdg-config'), { recursive: true });
  mkdirSync(join(tmp, 'xdg-state'), { recursive: true });
  base = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ENGRAM_BASE_URL: emu.url,
    ENGRAM_API_KEY: KEY,
    HOME: join(tmp, 'home'),
    XDG_CONFIG_HOME: join(tmp, 'xdg-config'),
    XDG_STATE_HOME: join(tmp, 'xdg-state'),
  };
});
afterAll(async () => {
  await emu.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Ran {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Run a command to its exit (the emulator lives in this process, so never spawnSync). */
async function exec(cmd: string, args: string[], env: Record<string, string>, o: SpawnOptions & { input?: string | Buffer | Readable } = {}): Promise<Ran> {
  const child = spawn(cmd, args, { env, ...o, stdio: o.stdio ?? ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  if (child.stdin) {
    child.stdin.on('error', () => {}); // the child may stop reading early (that is the point of some tests)
    if (o.input instanceof Readable) o.input.pipe(child.stdin);
    else child.stdin.end(o.input ?? '');
  }
  const [code] = (await once(child, 'close')) as [number];
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

const engram = (args: string[], env: Record<string, string> = base, o: Parameters<typeof exec>[3] = {}) => exec(process.execPath, [bin, ...args], env, o);

/** Run under a pseudo-terminal (`script`), width `cols`. */
const onTty = (args: string[], env: Record<string, string>, cols = 100) =>
  exec('script', ['-qfec', `stty cols ${cols} rows 40; ${process.execPath} ${bin} ${args.map((a) => `'${a}'`).join(' ')}`, '/dev/null'], env);

async function completedRun(content = 'The user likes tea. The user rides a bike.', user = 'env'): Promise<string> {
  const res = await fetch(`${emu.url}/v1/memories`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { string: { content: [content] } }, user_id: user }),
  });
  const { run_id } = (await res.json()) as { run_id: string };
  await fetch(`${emu.url}/_emulator/runs/${run_id}`, { method: 'POST', body: JSON.stringify({ status: 'completed' }) });
  return run_id;
}

/** No stack trace, no Node warning, no "unexpected" bug report. */
function quiet(stderr: Buffer): void {
  const s = stderr.toString();
  expect(s).not.toMatch(/\n\s+at |Error:|node:internal|ExperimentalWarning|this is a bug/);
}

describe('locale and terminal', () => {
  it('LANG=C / LC_ALL=C: non-ASCII input and output stay exact UTF-8', async () => {
    const env = { ...base, LANG: 'C', LC_ALL: 'C' };
    const text = 'Fête 🎉 漢字 — ñandú.';
    const add = await engram(['memories', 'add', text, '--user-id', 'lang-c', '--wait', '--json'], env);
    expect(add.code, add.stderr.toString()).toBe(0);
    const list = await engram(['memories', 'list', '--user-id', 'lang-c', '--json'], env);
    expect(JSON.parse(list.stdout.toString()).memories[0].content).toBe(text);
    const plain = await engram(['memories', 'list', '--user-id', 'lang-c'], env);
    expect(plain.stdout.toString()).toContain(text);
    quiet(plain.stderr);
  });

  it('TERM=dumb on a real terminal: the table layout, no colour, no spinner, no escape byte', async () => {
    const id = await completedRun();
    for (const args of [['runs', 'get', id], ['runs', 'wait', id]]) {
      const r = await onTty(args, { ...base, TERM: 'dumb' });
      expect(r.code).toBe(0);
      const out = r.stdout.toString();
      expect(out).toMatch(/completed/);
      expect(r.stdout.includes(0x1b), JSON.stringify(out)).toBe(false);
    }
    const colour = await onTty(['runs', 'get', id], { ...base, TERM: 'xterm-256color' });
    expect(colour.stdout.includes(0x1b)).toBe(true); // the control: a normal terminal gets colour
  });

  it('COLUMNS=20 (and a 20-column terminal): tables still render every value', async () => {
    const id = await completedRun('The user keeps a very long list of favourite books and films.', 'narrow');
    for (const env of [{ ...base, COLUMNS: '20' }]) {
      const r = await onTty(['memories', 'list', '--user-id', 'narrow', '--color', 'never'], env, 20);
      expect(r.code, r.stdout.toString()).toBe(0);
      const flat = r.stdout.toString().replace(/[│┌┐└┘├┤┬┴┼─\s]+/g, '');
      for (const part of ['UserKnowledge', 'favourit', 'films.']) expect(flat).toContain(part);
      quiet(r.stdout);
      const get = await onTty(['runs', 'get', id, '--color', 'never'], env, 20);
      expect(get.code).toBe(0);
      expect(get.stdout.toString()).toContain(id);
    }
    for (const bad of ['0', '-5', 'wide', '']) {
      const r = await engram(['memories', 'list', '--user-id', 'narrow'], { ...base, COLUMNS: bad });
      expect(r.code, `COLUMNS=${bad}`).toBe(0);
    }
  });
});

describe('HOME', () => {
  // An unprivileged user when the suite runs as root (root ignores file modes).
  const asUser: SpawnOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const env = () => {
    const { HOME: _h, XDG_CONFIG_HOME: _c, XDG_STATE_HOME: _s, ...rest } = base;
    return rest;
  };

  it.skipIf(process.getuid?.() !== 0)('no HOME (and a user whose home does not exist): works, and says why history is not kept', async () => {
    const add = await engram(['memories', 'add', 'No home here.', '--user-id', 'nohome', '-q'], env(), asUser);
    expect(add.code, add.stderr.toString()).toBe(0);
    expect(add.stdout.toString()).toMatch(/^[0-9a-f-]{36}\n$/);
    const loud = await engram(['memories', 'add', 'No home here.', '--user-id', 'nohome'], env(), asUser);
    expect(loud.code).toBe(0);
    expect(loud.stderr.toString()).toMatch(/warning: could not record run .* in the local history \/nonexistent\/\.local\/state\/engram\/history\.jsonl \((ENOENT|EACCES)\); the run itself was submitted/);
    const get = await engram(['runs', 'get', add.stdout.toString().trim(), '--json'], env(), asUser);
    expect(get.code).toBe(0);
    const list = await engram(['runs', 'list'], env(), asUser);
    expect(list.code).toBe(0);
    expect(list.stderr.toString()).toMatch(/no runs in the local history/);
    quiet(list.stderr);
  });

  it('a read-only HOME: commands work; writing the config or history says why', async () => {
    const home = join(tmp, 'ro-home');
    mkdirSync(home, { recursive: true });
    chmodSync(home, 0o555);
    const e = { ...env(), HOME: home };
    const o = asUser;
    const add = await engram(['memories', 'add', 'Read-only home.', '--user-id', 'rohome'], e, o);
    expect(add.code, add.stderr.toString()).toBe(0);
    expect(add.stderr.toString()).toMatch(/warning: could not record run .* \((EACCES|EROFS)\)/);
    const get = await engram(['runs', 'list', '--json'], e, o);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout.toString())).toEqual([]);
    const login = await engram(['auth', 'login'], e, { ...o, input: KEY + '\n' });
    expect(login.code).toBe(2);
    expect(login.stderr.toString()).toMatch(/^error: cannot write the config file .*ro-home\/\.config\/engram\/config\.json: (EACCES|EROFS); check that its directory is writable$/m);
    expect(login.stderr.toString()).not.toContain(KEY);
    const status = await engram(['auth', 'status'], e, o);
    expect(status.code).toBe(0);
    quiet(status.stderr);
  });
});

describe('| head -1: the reader goes away (EPIPE)', () => {
  const sh = (cmd: string) => exec('bash', ['-c', `${cmd}; echo "rc=\${PIPESTATUS[0]}" >&2`], base);
  const q = (s: string) => `'${s}'`;

  it('help, a huge run, 200 runs, NDJSON and JSON: exit 0 quietly, no stack trace', async () => {
    const huge = await completedRun('Huge.', 'pipe');
    await fetch(`${emu.url}/_emulator/runs/${huge}`, { method: 'POST', body: JSON.stringify({ synthetic_operations: 100_000 }) });
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => completedRun(`Fact ${i}.`, 'pipe')));
    const idsFile = join(tmp, 'ids.txt');
    writeFileSync(idsFile, many.join('\n') + '\n');
    const node = `${q(process.execPath)} ${q(bin)}`;
    for (const cmd of [
      `${node} help exit-codes | head -1`,
      `${node} runs get ${huge} | head -1`,
      `${node} runs get ${huge} --json | head -c 100`,
      `${node} runs get - < ${q(idsFile)} | head -1`,
      `${node} runs get - -o ndjson < ${q(idsFile)} | head -1`,
      `${node} runs wait - --json -q < ${q(idsFile)} | head -2`,
      `${node} memories list --user-id pipe --limit 100 -q | head -1`,
    ]) {
      const r = await sh(cmd);
      const err = r.stderr.toString();
      expect(err, cmd).toMatch(/rc=0\n$/);
      expect(err.replace(/rc=0\n$/, ''), cmd).toBe('');
      expect(r.stdout.length, cmd).toBeGreaterThan(0);
    }
  });
});

describe('a 50 MB input: refused before it is read whole, memory stays small', () => {
  const hook = join(tmp, 'rss-hook.mjs');
  writeFileSync(hook, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS * 1024)));\n`);
  const big = join(tmp, 'big.json');
  const rssOf = async (args: string[], o: Parameters<typeof exec>[3] = {}) => {
    const file = join(tmp, `rss-${Math.random().toString(36).slice(2)}`);
    const r = await exec(process.execPath, ['--import', pathToFileURL(hook).href, bin, ...args], { ...base, RSS_FILE: file }, o);
    return { ...r, rss: Number(readFileSync(file, 'utf8')) };
  };
  const MB = 1024 * 1024;

  it('--file, < redirect and a pipe of 50 MB: exit 2 with the limit; peak RSS close to a tiny input', async () => {
    closeSync(openSync(big, 'w'));
    truncateSync(big, 50 * MB);
    const small = join(tmp, 'small.json');
    writeFileSync(small, '[');
    const baseline = await rssOf(['memories', 'add', '--file', small]);
    expect(baseline.code).toBe(2);

    const byPath = await rssOf(['memories', 'add', '--file', big]);
    expect(byPath.code).toBe(2);
    expect(byPath.stderr.toString()).toMatch(/is 50\.0 MiB, over the 25 MiB limit/);
    expect(byPath.rss - baseline.rss).toBeLessThan(8 * MB);

    const fd = openSync(big, 'r');
    const redirected = await rssOf(['memories', 'add', '--file', '-'], { stdio: [fd, 'pipe', 'pipe'] });
    closeSync(fd);
    expect(redirected.code).toBe(2);
    expect(redirected.stderr.toString()).toMatch(/^error: --file - is larger than 25 MiB/);
    expect(redirected.rss - baseline.rss).toBeLessThan(8 * MB);

    // A pipe cannot be measured first: at most the 25 MiB limit is buffered, then it stops
    // reading. Peak memory is the same for 50 MB and 200 MB of input: bounded, not proportional.
    const pipe = (mb: number) => Readable.from((function* () {
      const chunk = Buffer.alloc(MB, 0x61);
      for (let i = 0; i < mb; i++) yield chunk;
    })());
    const piped50 = await rssOf(['memories', 'add', '--file', '-'], { input: pipe(50) });
    const piped200 = await rssOf(['memories', 'add', '--file', '-'], { input: pipe(200) });
    for (const p of [piped50, piped200]) {
      expect(p.code).toBe(2);
      expect(p.stderr.toString()).toMatch(/^error: --file - is larger than 25 MiB/);
      expect(p.rss - baseline.rss).toBeLessThan(64 * MB);
    }
    expect(Math.abs(piped200.rss - piped50.rss)).toBeLessThan(12 * MB);
  });
});
