import { describe, expect, it } from 'vitest';
import { cli, closedPortUrl, KEY } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const emu = useEmulator({ runTimeMs: 2000 });

const add = (content: string[], user = 'alice') => emu.addRaw({ input: { string: { content } }, user_id: user });

describe('engram runs get', () => {
  it('shows a running run as JSON with the stable shape and hints at runs wait', async () => {
    const id = await add(['I like green tea.']);
    const r = await emu.run(['runs', 'get', id, '--json']);
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(run.run_id).toBe(id);
    expect(run.status).toBe('running');
    expect(run.committed_operations).toEqual({ created: [], updated: [], deleted: [] });
    expect(run).not.toHaveProperty('$schema');
    expect(r.stderr).toContain(`engram runs wait ${id}`);
  });

  it('keeps the same JSON keys for running, completed and failed runs', async () => {
    const running = await add(['Running run.']);
    const completed = await add(['Completed run.']);
    const failed = await emu.addRaw({ input: { conversation: { messages: [{ role: 'assistant', content: 'Hi!' }] } }, user_id: 'alice' });
    await emu.control(`/_emulator/runs/${running}`, { status: 'running' });
    emu.clock.advance(5000);
    const r = await emu.run(['runs', 'get', running, completed, failed, '--json']);
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(runs.map((x) => x.run_id)).toEqual([running, completed, failed]);
    expect(runs.map((x) => x.status)).toEqual(['running', 'completed', 'failed']);
    const keys = runs.map((x) => Object.keys(x).sort().join(','));
    expect(new Set(keys).size).toBe(1);
    expect(runs[0]!.error).toBeNull();
    expect(typeof runs[2]!.error).toBe('string');
    expect((runs[1]!.committed_operations as { created: unknown[] }).created.length).toBeGreaterThan(0);
  });

  it('renders the run detail on a TTY, with colour and relative times', async () => {
    const id = await add(['Likes jazz. Plays piano.']);
    emu.clock.advance(3000);
    const r = await emu.run(['runs', 'get', id], { tty: true });
    expect(r.code).toBe(0);
    for (const label of ['Run ID', 'Status', 'Input type', 'User', 'Group ID', 'Starting step', 'Created', 'Updated', 'Duration', 'Operations']) {
      expect(r.stdout).toContain(label);
    }
    expect(r.stdout).toContain('✓');
    expect(r.stdout).toMatch(/\+2 ~0 -0/);
    expect(r.stdout).toMatch(/(ago|just now) \(\d{4}-\d\d-\d\dT/);
    expect(r.stdoutBytes.includes(0x1b)).toBe(true);
  });

  it('prints key: value lines with no escape byte when piped', async () => {
    const id = await add(['Owns a cat.']);
    emu.clock.advance(3000);
    const r = await emu.run(['runs', 'get', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^run_id: ${id}$`, 'm'));
    expect(r.stdout).toMatch(/^status: completed$/m);
    expect(r.stdout).toMatch(/^created_memory: [0-9a-f-]{36}$/m);
    expect(r.stdout).toMatch(/^created_at: \d{4}-/m);
    expect(r.stdout).toMatch(/^user_id: alice$/m);
    expect(r.stdoutBytes.includes(0x1b)).toBe(false);
    expect(r.stderrBytes.includes(0x1b)).toBe(false);
  });

  it('ndjson: one object per line', async () => {
    const a = await add(['One.']);
    const b = await add(['Two.']);
    const r = await emu.run(['runs', 'get', a, b, '-o', 'ndjson']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.run_id).sort()).toEqual([a, b].sort());
  });

  it('--exit-status: 0 completed, 3 failed, 124 not finished', async () => {
    const done = await add(['Done.']);
    const failed = await add(['Will fail.']);
    await emu.control(`/_emulator/runs/${failed}`, { status: 'failed', error: 'boom' });
    const running = await add(['Running.']);
    await emu.control(`/_emulator/runs/${running}`, { status: 'running' });
    emu.clock.advance(3000);
    const code = async (id: string) => (await emu.run(['runs', 'get', id, '--exit-status', '-q'])).code;
    expect(await code(done)).toBe(0);
    expect(await code(failed)).toBe(3);
    expect(await code(running)).toBe(124);
  });

  it('unknown run: exit 5; another project\'s run: exit 4; no key: exit 4', async () => {
    const id = await add(['Mine.']);
    const other = await emu.addRaw({ input: { string: { content: ['Theirs.'] } }, user_id: 'bob' }, 'eng_other_project_key');
    const missing = await emu.run(['runs', 'get', '019e8742-5a4d-7698-88a5-f714efe876d1']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/^error: 404/m);
    const forbidden = await emu.run(['runs', 'get', other]);
    expect(forbidden.code).toBe(4);
    const nokey = await cli(['runs', 'get', id], { env: { ENGRAM_BASE_URL: emu.env.ENGRAM_BASE_URL }, clock: emu.clock });
    expect(nokey.code).toBe(4);
    expect(nokey.stderr).toMatch(/^error: no API key configured; .*ENGRAM_API_KEY.*--api-key-file PATH.*\n$/);
    expect(nokey.stderr.split('\n')).toHaveLength(2); // one line
  });

  it('with several ids, reports each missing one and exits with the worst code', async () => {
    const id = await add(['Here.']);
    const unknown = '019e8742-5a4d-7698-88a5-f714efe876d1';
    const r = await emu.run(['runs', 'get', id, unknown, '--json']);
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout).map((x: { run_id: string }) => x.run_id)).toEqual([id]);
    expect(r.stderr).toContain(`run ${unknown}: 404`);
  });

  it('several ids, none found: an empty JSON array (jq always gets a document), exit 5', async () => {
    const r = await emu.run(['runs', 'get', '019e8742-5a4d-7698-88a5-f714efe876d1', '019e8742-5a4d-7698-88a5-f714efe876d2', '--json']);
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('refuses bad ids before sending anything', async () => {
    const before = emu.emu.stats().requests;
    for (const bad of ['', '..', 'abc def', 'x\u0007']) {
      const r = await emu.run(['runs', 'get', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(emu.emu.stats().requests).toBe(before);
  });

  it('percent-encodes ids so they stay one path segment', async () => {
    const r = await emu.run(['runs', 'get', '../memories', '--debug']);
    expect([5, 6]).toContain(r.code); // the emulator, like the real API, rejects a non-UUID id
    expect(r.stderr).toContain('/v1/runs/..%2Fmemories');
  });

  it('never shows the API key, even with --debug and errors', async () => {
    const id = await add(['Secret test.']);
    for (const argv of [
      ['runs', 'get', id, '--debug'],
      ['runs', 'get', 'missing-run', '--debug'],
      ['runs', 'get', id, '--debug', '--base-url', await closedPortUrl()],
    ]) {
      const r = await emu.run(argv, { tty: true });
      expect(r.stderr).toContain('Bearer [REDACTED]');
      expect(r.stdout + r.stderr).not.toContain(KEY);
      expect(r.stdout + r.stderr).not.toContain(KEY.slice(4));
    }
  });
});
