import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES, recordLine } from '../../src/history/history.js';
import { cli, closedPortUrl, KEY } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const emu = useEmulator({ runTimeMs: 2000 });
const bin = fileURLToPath(new URL('../../bin/engram.cjs', import.meta.url));

function setup() {
  const state = mkdtempSync(join(tmpdir(), 'engram-history-'));
  const env = { ...emu.env, XDG_STATE_HOME: state };
  const run = (argv: string[], o: Parameters<typeof cli>[1] = {}) => cli(argv, { clock: emu.clock, ...o, env: { ...env, ...(o.env ?? {}) } });
  return { state, env, run, file: join(state, 'engram', 'history.jsonl') };
}

const rows = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t'));

describe('engram runs list', () => {
  it('lists the runs memories add submitted, newest first, refreshed like the console', async () => {
    const { run } = setup();
    const a = (await run(['memories', 'add', 'First run.', '--user-id', 'rl-a', '-q'])).stdout.trim();
    emu.clock.advance(1000);
    const p = join(mkdtempSync(join(tmpdir(), 'engram-rl-')), 'in.jsonl');
    writeFileSync(p, '"Bulk one."\n[{"content": "Bulk two.", "topic": "UserKnowledge"}]\n');
    const bulk = await run(['memories', 'add', '--jsonl', p, '--user-id', 'rl-b', '--concurrency', '1']);
    const [b1, b2] = bulk.stdout.trim().split('\n').map((l) => JSON.parse(l).run_id as string);
    emu.clock.advance(1500); // the first run has completed, the bulk ones are still running
    const r = await run(['runs', 'list']);
    expect(r.code).toBe(0);
    const list = rows(r.stdout);
    expect(list.map((x) => x[0])).toEqual([b2, b1, a]);
    expect(list[2]).toEqual([a, 'completed', 'string', 'rl-a', '+1 ~0 -0', expect.stringMatching(/^\d{4}-/), expect.stringMatching(/^\d{4}-/)]);
    expect(list[0]!.slice(1, 5)).toEqual(['running', 'pre_extracted', 'rl-b', '+0 ~0 -0']);
    expect(r.stderr).toMatch(/^3 runs$/m);
    expect(r.stdoutBytes.includes(0x1b)).toBe(false);

    const failed = await run(['runs', 'list', '--status', 'completed', '--json']);
    expect((JSON.parse(failed.stdout) as Array<{ run_id: string }>).map((x) => x.run_id)).toEqual([a]);
    const limited = await run(['runs', 'list', '--limit', '1', '-o', 'ndjson']);
    const doc = JSON.parse(limited.stdout.trim());
    expect(doc).toMatchObject({ run_id: b2, status: 'running', history: { source: `${p}:2`, profile: 'default' } });
    expect(doc.committed_operations).toEqual({ created: [], updated: [], deleted: [] });
  });

  it('TTY: a table with coloured statuses and relative times', async () => {
    const { run } = setup();
    await run(['memories', 'add', 'Tty run.', '--user-id', 'rl-tty', '-q']);
    emu.clock.advance(3 * 60_000);
    const r = await run(['runs', 'list'], { tty: true, columns: 140 });
    const plain = r.stdout.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/┌/);
    expect(plain).toMatch(/run id .* status .* input type .* user .* operations .* started .* updated/);
    expect(plain).toMatch(/✓ completed/);
    expect(plain).toMatch(/3m ago/);
    // a narrower terminal drops the least useful columns instead of overflowing
    const narrow = await run(['runs', 'list'], { tty: true, columns: 90 });
    const lines = narrow.stdout.replace(/\u001b\[[0-9;]*m/g, '').trimEnd().split('\n');
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(90);
    expect(lines.join('\n')).not.toMatch(/updated/);
    expect(lines.join('\n')).toMatch(/run id .* status/);
  });

  it('--no-refresh sends nothing; --status needs a refresh', async () => {
    const { run } = setup();
    const id = (await run(['memories', 'add', 'No refresh.', '--user-id', 'rl-nr', '-q'])).stdout.trim();
    const before = emu.emu.stats().requests;
    const r = await run(['runs', 'list', '--no-refresh']);
    expect(r.code).toBe(0);
    expect(rows(r.stdout)[0]!.slice(0, 4)).toEqual([id, '-', 'string', 'rl-nr']);
    expect(emu.emu.stats().requests).toBe(before);
    const bad = await run(['runs', 'list', '--no-refresh', '--status', 'failed']);
    expect(bad.code).toBe(2);
  });

  it('only runs of the current base URL; torn lines are skipped with a warning', async () => {
    const { run, file } = setup();
    const id = (await run(['memories', 'add', 'Here.', '--user-id', 'rl-url', '-q'])).stdout.trim();
    appendFileSync(file, recordLine({ v: 1, run_id: 'elsewhere-run', base_url: 'https://api.engram.weaviate.io', profile: 'default', input_type: 'string', submitted_at: '2026-12-01T00:00:00Z' }));
    appendFileSync(file, '{"v":1,"run_id":"torn","base_u\n');
    appendFileSync(file, 'garbage\n');
    const r = await run(['runs', 'list', '--no-refresh']);
    expect(r.code).toBe(0);
    expect(rows(r.stdout).map((x) => x[0])).toEqual([id]);
    expect(r.stderr).toMatch(/skipped 2 unreadable lines in .*history\.jsonl \(line 3, 4\)/);
  });

  it('a run the service forgot shows as unknown with a warning; an unreachable service → 7', async () => {
    const { run } = setup();
    const id = (await run(['memories', 'add', 'Forgotten.', '--user-id', 'rl-404', '-q'])).stdout.trim();
    await emu.control(`/_emulator/runs/${id}`, undefined, 'DELETE');
    const r = await run(['runs', 'list', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ run_id: id, status: null, refresh_error: expect.stringMatching(/not found/) });
    expect(r.stderr).toMatch(new RegExp(`run ${id}: not found`));
    const down = await run(['runs', 'list'], { env: { ENGRAM_BASE_URL: await closedPortUrl() } });
    expect(down.code).toBe(0); // another base URL: nothing in its history, nothing to refresh
    const { run: run2, file } = setup();
    await run2(['memories', 'add', 'x.', '--user-id', 'rl-down', '-q']);
    const url = await closedPortUrl();
    const rec = JSON.parse(readFileSync(file, 'utf8').trim());
    appendFileSync(file, recordLine({ ...rec, run_id: rec.run_id + '-2', base_url: url }));
    const unreachable = await run2(['runs', 'list'], { env: { ENGRAM_BASE_URL: url } });
    expect(unreachable.code).toBe(7);
    expect(unreachable.stderr).toMatch(/--no-refresh/);
  });

  it('an empty history says where runs come from', async () => {
    const { run } = setup();
    const r = await run(['runs', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no runs in the local history .*engram memories add/);
  });
});

describe('run history file', () => {
  it('records stay one short line even with huge fields', () => {
    const line = recordLine({ v: 1, run_id: 'r', base_url: 'http://x', profile: 'p', input_type: 'string', user_id: 'u'.repeat(10_000), group: 'g'.repeat(10_000), source: 's'.repeat(10_000), submitted_at: 't' });
    expect(Buffer.byteLength(line)).toBeLessThan(MAX_RECORD_BYTES);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line).run_id).toBe('r');
  });

  it('survives concurrent writers: several CLI processes appending at once', async () => {
    const { state, file } = setup();
    const dir = mkdtempSync(join(tmpdir(), 'engram-concurrent-'));
    const PROCS = 6;
    const LINES = 40;
    const children = Array.from({ length: PROCS }, (_, p) => {
      const input = join(dir, `p${p}.jsonl`);
      writeFileSync(input, Array.from({ length: LINES }, (_, i) => JSON.stringify(`Process ${p} fact ${i}.`)).join('\n') + '\n');
      const child = spawn(process.execPath, [bin, 'memories', 'add', '--jsonl', input, '--user-id', `writer-${p}`, '--concurrency', '8'], {
        env: { PATH: process.env.PATH ?? '', ENGRAM_BASE_URL: emu.emu.url, ENGRAM_API_KEY: KEY, XDG_STATE_HOME: state, XDG_CONFIG_HOME: join(state, 'cfg') },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.resume();
      // 'close', not 'exit': under load the last stdout chunk can arrive after the exit event.
      return once(child, 'close').then(([code]) => ({ code, out }));
    });
    const results = await Promise.all(children);
    const submitted = new Set<string>();
    for (const r of results) {
      expect(r.code, r.out).toBe(0);
      for (const l of r.out.trim().split('\n')) {
        const rec = JSON.parse(l) as { run_id?: string };
        expect(rec.run_id, l).toEqual(expect.any(String));
        submitted.add(rec.run_id!);
      }
    }
    expect(submitted.size).toBe(PROCS * LINES);
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(PROCS * LINES);
    const recorded = new Set(lines.map((l) => (JSON.parse(l) as { run_id: string }).run_id));
    expect(recorded).toEqual(submitted);
  });
});

describe('engram runs list: a damaged history', () => {
  it('a torn last line does not swallow the next run', async () => {
    const { run, file } = setup();
    const first = (await run(['memories', 'add', 'Before the tear.', '--user-id', 'torn', '-q'])).stdout.trim();
    appendFileSync(file, '{"v":1,"run_id":"01a2'); // a crash mid-write: no newline
    const next = (await run(['memories', 'add', 'After the tear.', '--user-id', 'torn', '-q'])).stdout.trim();
    const r = await run(['runs', 'list', '--no-refresh']);
    expect(r.code).toBe(0);
    expect(rows(r.stdout).map((x) => x[0])).toEqual([next, first]);
    expect(r.stderr).toMatch(/skipped 1 unreadable line/);
  });

  it('a run id the service rejects is that run\'s warning, not the whole list\'s error', async () => {
    const { run, file } = setup();
    const good = (await run(['memories', 'add', 'A good run.', '--user-id', 'bad-id', '-q'])).stdout.trim();
    appendFileSync(file, recordLine({ v: 1, run_id: 'not-a-uuid', base_url: emu.emu.url, profile: 'default', input_type: 'string', submitted_at: new Date(emu.clock.now()).toISOString() }));
    const r = await run(['runs', 'list']);
    expect(r.code).toBe(0);
    expect(rows(r.stdout).map((x) => x[0])).toContain(good);
    expect(r.stderr).toMatch(/^warning: run not-a-uuid: 422/m);
  });
});
