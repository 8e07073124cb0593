import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { KEY } from '../helpers/cli.js';

// The package as users get it: `npm pack`, then a global install into a temporary prefix,
// then the installed `engram` binary against an emulator.
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'engram-pkg-'));
const prefix = join(dir, 'prefix');
let emu: Emulator;
let packed: { files: Array<{ path: string }>; filename: string };

beforeAll(async () => {
  emu = await startEmulator({ port: 0, runTimeMs: 0 });
  const pack = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  expect(pack.status, pack.stderr).toBe(0);
  packed = JSON.parse(pack.stdout)[0];
  const inst = spawnSync('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(dir, packed.filename)], { encoding: 'utf8' });
  expect(inst.status, inst.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function installed(args: string[]) {
  const child = spawn(join(prefix, 'bin', 'engram'), args, { env: { PATH: process.env.PATH ?? '', ENGRAM_BASE_URL: emu.url, ENGRAM_API_KEY: KEY } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'close'); // 'close': after the last output arrived ('exit' can come first)
  return { code, stdout, stderr };
}

describe('the published package', () => {
  it('ships only bin/, dist/, README and package.json', () => {
    const top = new Set(packed.files.map((f) => f.path.split('/')[0]));
    expect([...top].sort()).toEqual(['README.md', 'bin', 'dist', 'package.json']);
  });

  it('installs with no runtime dependencies', () => {
    const modules = readdirSync(join(prefix, 'lib', 'node_modules'));
    expect(modules).toEqual(['engram-cli']);
  });

  it('runs with npx from the tarball', () => {
    const r = spawnSync('npx', ['--yes', '--package', join(dir, packed.filename), '--', 'engram', '--version'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs --version and runs get against the emulator', async () => {
    const v = await installed(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const res = await fetch(`${emu.url}/v1/memories`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { string: { content: ['Installed package test.'] } }, user_id: 'alice' }),
    });
    const { run_id } = (await res.json()) as { run_id: string };
    const r = await installed(['runs', 'get', run_id, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).run_id).toBe(run_id);
  });
});
