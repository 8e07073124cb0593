import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, closedPortUrl, KEY } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const emu = useEmulator({ runTimeMs: 2000 });
const OTHER = 'eng_other_profile_key_9876543210zyxw';

/** A fresh config home, and an env for the emulator without ENGRAM_API_KEY. */
function setup() {
  const home = mkdtempSync(join(tmpdir(), 'engram-auth-'));
  const env: Record<string, string> = { ENGRAM_BASE_URL: emu.emu.url, XDG_CONFIG_HOME: home, XDG_STATE_HOME: join(home, 'state') };
  const file = join(home, 'engram', 'config.json');
  const run = (argv: string[], o: Parameters<typeof cli>[1] = {}) => cli(argv, { clock: emu.clock, ...o, env: { ...env, ...(o.env ?? {}) } });
  return { home, env, file, run };
}

const noKeyIn = (...texts: string[]) => {
  for (const t of texts) {
    expect(t).not.toContain(KEY);
    expect(t).not.toContain(OTHER);
  }
};

describe('engram auth login', () => {
  it('reads the key from stdin, verifies it, saves it 0600 in a 0700 directory', async () => {
    const { file, run, home } = setup();
    const r = await run(['auth', 'login'], { stdin: KEY + '\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/logged in: profile "default", key eng_…cdef verified/);
    noKeyIn(r.stdout, r.stderr);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'engram')).mode & 0o777).toBe(0o700);
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    expect(cfg.profiles.default).toEqual({ api_key: KEY, base_url: emu.emu.url });
    expect(readdirSync(join(home, 'engram'))).toEqual(['config.json']); // no temp file left behind
  });

  it('a hidden prompt on a terminal; without a terminal and without input it refuses', async () => {
    const { file, run } = setup();
    const r = await run(['auth', 'login', '--profile', 'work'], { tty: true, stdinTTY: true, stdin: OTHER + '\r\n' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Engram API key for profile "work" \(input hidden\): /);
    noKeyIn(r.stdout, r.stderr);
    expect(JSON.parse(readFileSync(file, 'utf8')).profiles.work.api_key).toBe(OTHER);
    const empty = await run(['auth', 'login'], { stdin: '' });
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/empty/);
  });

  it('a key the service rejects is not saved (exit 4); a non-eng_ key is refused before sending', async () => {
    const { file, run } = setup();
    await emu.control('/_emulator/faults', { path: '/v1/auth/verify', count: 1, status: 401, body: { detail: 'invalid API key' } });
    const r = await run(['auth', 'login'], { stdin: KEY });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/401 invalid API key/);
    expect(r.stderr).toMatch(/nothing was saved/);
    expect(() => statSync(file)).toThrow();
    const before = emu.emu.stats().requests;
    const bad = await run(['auth', 'login'], { stdin: 'sk-not-engram' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/keys start with eng_/);
    expect(emu.emu.stats().requests).toBe(before);
  });

  it('an unreachable service: not saved, exit 7', async () => {
    const { file, run } = setup();
    const r = await run(['auth', 'login'], { stdin: KEY, env: { ENGRAM_BASE_URL: await closedPortUrl() } });
    expect(r.code).toBe(7);
    expect(() => statSync(file)).toThrow();
  });
});

describe('engram auth status and precedence', () => {
  it('a profile key and base URL are used when nothing overrides them', async () => {
    const { env, run } = setup();
    await run(['auth', 'login'], { stdin: KEY });
    const noUrl = { ...env, ENGRAM_BASE_URL: '' };
    const s = await run(['auth', 'status'], { env: noUrl });
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^key: eng_…cdef \(from profile "default" in .*config\.json\)$/m);
    expect(s.stdout).toMatch(new RegExp(`^base_url: ${emu.emu.url} \\(from profile "default"\\)$`, 'm'));
    expect(s.stdout).toMatch(/^verified: the key is valid$/m);
    noKeyIn(s.stdout, s.stderr);
    // the stored key and base URL really drive requests
    const add = await run(['memories', 'add', 'Profile add.', '--user-id', 'p-user', '-q'], { env: noUrl });
    expect(add.code).toBe(0);
  });

  it('flags > env > profile: ENGRAM_API_KEY beats the profile, --api-key-file beats both', async () => {
    const { home, run } = setup();
    await run(['auth', 'login'], { stdin: OTHER });
    const env = await run(['auth', 'status', '--json'], { env: { ENGRAM_API_KEY: KEY } });
    expect(JSON.parse(env.stdout)).toMatchObject({ key: 'eng_…cdef', key_source: 'ENGRAM_API_KEY', verified: true });
    const keyFile = join(home, 'key.txt');
    writeFileSync(keyFile, OTHER + '\n');
    const flag = await run(['auth', 'status', '--json', '--api-key-file', keyFile], { env: { ENGRAM_API_KEY: KEY } });
    expect(JSON.parse(flag.stdout)).toMatchObject({ key: 'eng_…zyxw', key_source: `--api-key-file ${keyFile}` });
    const url = await run(['auth', 'status', '--json', '--base-url', 'http://127.0.0.1:1']);
    expect(JSON.parse(url.stdout)).toMatchObject({ base_url: 'http://127.0.0.1:1', base_url_source: '--base-url', verified: null });
    expect(url.code).toBe(7);
    noKeyIn(env.stdout, flag.stdout, url.stdout, url.stderr);
  });

  it('--profile and ENGRAM_PROFILE select a profile; a missing one is an error (exit 4)', async () => {
    const { run } = setup();
    await run(['auth', 'login', '--profile', 'staging'], { stdin: OTHER });
    const viaEnv = await run(['auth', 'status', '--json'], { env: { ENGRAM_PROFILE: 'staging' } });
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ profile: 'staging', profile_source: 'ENGRAM_PROFILE', key: 'eng_…zyxw' });
    const dflt = await run(['auth', 'status']);
    expect(dflt.code).toBe(4);
    expect(dflt.stdout).toMatch(/^key: none$/m);
    const missing = await run(['memories', 'list', '--user-id', 'x', '--profile', 'nope']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/profile "nope" \(from --profile\) is not in .*engram auth login --profile nope/);
    const badName = await run(['auth', 'status', '--profile', '../x']);
    expect(badName.code).toBe(2);
  });

  it('TTY: aligned rows with a check mark; a rejected key → 4', async () => {
    const { run } = setup();
    const ok = await run(['auth', 'status'], { tty: true, env: { ENGRAM_API_KEY: KEY } });
    expect(ok.code).toBe(0);
    expect(ok.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/^Verified\s+✓ the key is valid$/m);
    await emu.control('/_emulator/faults', { path: '/v1/auth/verify', count: 1, status: 401, body: { detail: 'invalid API key' } });
    const bad = await run(['auth', 'status'], { env: { ENGRAM_API_KEY: KEY } });
    expect(bad.code).toBe(4);
    expect(bad.stdout).toMatch(/^verified: rejected: 401 invalid API key$/m);
  });

  it('warns when the config file is readable by others', async () => {
    const { file, run } = setup();
    await run(['auth', 'login'], { stdin: KEY });
    chmodSync(file, 0o644);
    const r = await run(['auth', 'status']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/config file .* is readable by others \(mode 0644\); fix with: chmod 600/);
  });

  it('a config file that is not JSON is a clear error', async () => {
    const { file, run } = setup();
    await run(['auth', 'login'], { stdin: KEY });
    writeFileSync(file, '{ nope');
    const r = await run(['auth', 'status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config file .* is not valid JSON/);
  });
});

describe('engram auth logout', () => {
  it("removes the profile's key and keeps the rest (mode stays 0600)", async () => {
    const { file, run } = setup();
    await run(['auth', 'login'], { stdin: KEY });
    await run(['auth', 'login', '--profile', 'other'], { stdin: OTHER });
    const r = await run(['auth', 'logout']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/removed the key of profile "default"/);
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    expect(cfg.profiles.default).toEqual({ base_url: emu.emu.url });
    expect(cfg.profiles.other.api_key).toBe(OTHER);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await run(['auth', 'status'])).code).toBe(4);
    const tty = await run(['auth', 'logout', '--profile', 'other'], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toBe('');
    expect(tty.stderr).toMatch(/removed the key of profile "other"/);
    const again = await run(['auth', 'logout']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/no key is stored/);
  });
});

describe('a --profile that does not exist', () => {
  it('is named in a warning when ENGRAM_API_KEY is used instead', async () => {
    const cfg = mkdtempSync(join(tmpdir(), 'engram-noprof-'));
    const r = await cli(['runs', 'get', 'abc', '--profile', 'typo', '--base-url', await closedPortUrl()], {
      env: { ENGRAM_API_KEY: 'eng_some_key_for_test', XDG_CONFIG_HOME: cfg },
    });
    expect(r.stderr).toMatch(/^warning: profile "typo" is not in .*config\.json; using ENGRAM_API_KEY$/m);
  });
});
