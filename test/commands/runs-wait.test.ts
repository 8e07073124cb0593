import { describe, expect, it } from 'vitest';
import { closedPortUrl } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const emu = useEmulator({ runTimeMs: 2000 });
const add = (text = 'The user likes hiking.') => emu.addRaw({ input: { string: { content: [text] } }, user_id: 'alice' });
const run = emu.run;

describe('engram runs wait: outcomes and exit codes', () => {
  it('completed → 0, report on stdout, status lines on stderr', async () => {
    const id = await add();
    const start = emu.clock.elapsed();
    const r = await run(['runs', 'wait', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${id}  completed · ran 2\\.0s · waited [\\d.]+s  \\+1 ~0 -0$`, 'm'));
    expect(r.stderr).toContain(`${id}: running`);
    expect(r.stderr).toContain('running → completed');
    // detected within one poll gap of the 2 s run time (gap ≈ 0.45 × age + 250 ms, ±10 %),
    // not at the 5 s interval cap
    expect(emu.clock.elapsed() - start).toBeLessThan(2000 + (0.45 * 2000 + 250) * 1.1);
    expect(r.stdoutBytes.includes(0x1b) || r.stderrBytes.includes(0x1b)).toBe(false);
  });

  it('a run already failed at the first poll → 3 at once, error on stderr and in JSON', async () => {
    const id = await add();
    await emu.control(`/_emulator/runs/${id}`, { status: 'failed', error: 'extraction failed: bad input' });
    const start = emu.clock.elapsed();
    const r = await run(['runs', 'wait', id, '--json']);
    expect(r.code).toBe(3);
    expect(emu.clock.elapsed()).toBe(start);
    const doc = JSON.parse(r.stdout);
    expect(doc.status).toBe('failed');
    expect(doc.error).toBe('extraction failed: bad input');
    expect(doc.wait).toMatchObject({ outcome: 'failed', exit_code: 3, polls: 1 });
    expect(r.stderr).toContain(`run ${id} failed: extraction failed: bad input`);
  });

  it('unknown run → 5', async () => {
    const r = await run(['runs', 'wait', '019e8742-5a4d-7698-88a5-f714efe876d1']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/not found/);
  });

  it('a run deleted mid-wait → 5', async () => {
    const id = await add();
    await emu.control(`/_emulator/runs/${id}`, { status: 'running' });
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1, action: 'respond', status: 404, body: { detail: 'run not found' } });
    const r = await run(['runs', 'wait', id]);
    expect(r.code).toBe(5);
  });

  it('cannot finish before --timeout 2s → 124, with the last status and the resume hint', async () => {
    const id = await add();
    await emu.control(`/_emulator/runs/${id}`, { status: 'running' });
    const start = emu.clock.elapsed();
    const r = await run(['runs', 'wait', id, '--timeout', '2s']);
    expect(r.code).toBe(124);
    expect(emu.clock.elapsed() - start).toBe(2000);
    expect(r.stdout).toMatch(/not finished: still running \(for 2\.0s\)/);
    expect(r.stderr).toContain(`resume with \`engram runs wait ${id}\``);
  });

  it('stuck in_buffer: 0 with --until in_buffer, 124 without', async () => {
    const id = await add();
    await emu.control(`/_emulator/runs/${id}`, { status: 'in_buffer' });
    expect((await run(['runs', 'wait', id, '--until', 'in_buffer'])).code).toBe(0);
    const r = await run(['runs', 'wait', id, '--timeout', '30s']);
    expect(r.code).toBe(124);
    expect(r.stderr).toContain('resume with');
  });

  it('three ids share one deadline (≈ deadline, not 3×)', async () => {
    const ids = [await add('a.'), await add('b.'), await add('c.')];
    for (const id of ids) await emu.control(`/_emulator/runs/${id}`, { status: 'running' });
    const start = emu.clock.elapsed();
    const r = await run(['runs', 'wait', ...ids, '--timeout', '10s', '--json']);
    expect(r.code).toBe(124);
    expect(emu.clock.elapsed() - start).toBe(10_000);
    expect(JSON.parse(r.stdout)).toHaveLength(3);
  });

  it('several runs: the worst outcome wins, every run is reported', async () => {
    const ok = await add('ok.');
    const bad = await add('bad.');
    await emu.control(`/_emulator/runs/${bad}`, { status: 'failed' });
    const r = await run(['runs', 'wait', ok, bad, '019e8742-5a4d-7698-88a5-f714efe876d1', '--json']);
    expect(r.code).toBe(5);
    const docs = JSON.parse(r.stdout) as Array<{ wait: { outcome: string } }>;
    expect(docs.map((d) => d.wait.outcome)).toEqual(['completed', 'failed', 'not_found']);
  });

  it('reads ids from stdin with -', async () => {
    const a = await add('x.');
    const b = await add('y.');
    const r = await run(['runs', 'wait', '-', '-o', 'ndjson'], { stdin: `${a}\n\n${b}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).run_id).sort()).toEqual([a, b].sort());
  });
});

describe('engram runs wait: transient trouble never ends a wait', () => {
  it('502, reset and 429+Retry-After mid-wait, then success → 0, warnings on stderr, stdout clean', async () => {
    const id = await add();
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1, action: 'respond', status: 502, body: '<html><title>502 Bad Gateway</title></html>', content_type: 'text/html' });
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1, action: 'drop' });
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1, action: 'respond', status: 429, retry_after: '3', body: { detail: 'slow down' } });
    const r = await run(['runs', 'wait', id, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('completed');
    expect(r.stderr).toMatch(/poll failed: 502 Bad Gateway, retrying in/);
    expect(r.stderr).toMatch(/poll failed: cannot reach .*retrying in/);
    expect(r.stderr).toMatch(/poll failed: 429 slow down, retrying in 3\.0s/);
  });

  it('truncated and empty bodies are retried', async () => {
    const id = await add();
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1, action: 'truncate' });
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1, action: 'empty' });
    const r = await run(['runs', 'wait', id]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/empty response body/);
  });

  it('a 200 without a status, or with HTML, is retried', async () => {
    const id = await add();
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1, action: 'respond', status: 200, body: { run_id: id } });
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1, action: 'respond', status: 200, body: '<html>maintenance</html>', content_type: 'text/html' });
    const r = await run(['runs', 'wait', id, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('completed');
    expect(r.stderr).toMatch(/poll failed: run response has no run_id or status, retrying/);
    expect(r.stderr).toMatch(/poll failed: response is not valid JSON: text\/html, retrying/);
  });

  it('a slow answer beyond --request-timeout is retried', async () => {
    const id = await add();
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1, delay_ms: 60_000 });
    const r = await run(['runs', 'wait', id, '--request-timeout', '5s']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/request timed out after 5s, retrying/);
  });

  it('a service that never answers usefully → 7 at the deadline', async () => {
    const id = await add();
    await emu.control('/_emulator/faults', { path: `/v1/runs/${id}`, count: 1000, action: 'respond', status: 503 });
    const start = emu.clock.elapsed();
    const r = await run(['runs', 'wait', id, '--timeout', '20s']);
    expect(r.code).toBe(7);
    expect(emu.clock.elapsed() - start).toBe(20_000);
    // announced once, not once per retry
    expect(r.stderr.match(/poll failed: 503/g)).toHaveLength(1);
    await emu.control('/_emulator/faults', undefined, 'DELETE'); // open-ended on purpose
  });

  it('--json of a run never seen has the keys of one that was (null), so jq paths hold', async () => {
    const seen = await add();
    const never = await add();
    await emu.control('/_emulator/faults', { path: `/v1/runs/${never}`, count: 1000, action: 'respond', status: 503 });
    const r = await run(['runs', 'wait', seen, never, '--timeout', '5s', '--json']);
    await emu.control('/_emulator/faults', undefined, 'DELETE'); // open-ended on purpose
    expect(r.code).toBe(7);
    const [a, b] = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(b!.status).toBeNull();
    expect(b!.committed_operations).toEqual({ created: [], updated: [], deleted: [] });
    expect(Object.keys(b!).sort()).toEqual(Object.keys(a!).sort());
    for (const k of ['user_id', 'group_id', 'error', 'created_at']) expect(b![k], k).toBeNull();
  });

  it('an unreachable service → 7', async () => {
    const r = await run(['runs', 'wait', 'abc', '--timeout', '3s'], { env: { ...emu.env, ENGRAM_BASE_URL: await closedPortUrl() } });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/connection refused/);
  });

  it('an unknown status is not terminal: warn once, keep waiting', async () => {
    const id = await add();
    await emu.control(`/_emulator/runs/${id}`, { status: 'paused' });
    const r = await run(['runs', 'wait', id, '--timeout', '15s']);
    expect(r.code).toBe(124);
    expect(r.stderr.match(/unknown run status "paused"/g)).toHaveLength(1);
  });
});

describe('engram runs wait: streams', () => {
  it('--events prints NDJSON status changes and nothing else on stdout', async () => {
    const id = await add();
    const r = await run(['runs', 'wait', id, '--events']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => [e.status, e.previous_status])).toEqual([
      ['running', null],
      ['completed', 'running'],
    ]);
    for (const e of events) expect(Object.keys(e)).toEqual(['run_id', 'status', 'previous_status', 'at', 'elapsed_ms']);
  });

  it('--quiet is silent on stderr on success', async () => {
    const id = await add();
    const r = await run(['runs', 'wait', id, '-q']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('a heartbeat line at least every 60 s when not on a TTY', async () => {
    const id = await add();
    await emu.control(`/_emulator/runs/${id}`, { status: 'running' });
    const r = await run(['runs', 'wait', id, '--timeout', '150s']);
    expect(r.code).toBe(124);
    expect(r.stderr.match(/still waiting: 0\/1 done/g)).toHaveLength(2);
  });

  it('a spinner on a TTY, drawn on stderr only', async () => {
    const id = await add();
    const r = await run(['runs', 'wait', id], { tty: true, env: { ...emu.env, TERM: 'xterm' } });
    expect(r.code).toBe(0);
    const plain = (t: string) => t.replace(/\u001b\[[0-9;?]*[a-zA-Z]/g, '');
    expect(plain(r.stderr)).toMatch(/running · /);
    expect(r.stdout).toMatch(/✓/);
    expect(r.stdout).not.toMatch(/running · /);
  });

  it('bad flags are usage errors and nothing is sent', async () => {
    for (const argv of [
      ['runs', 'wait', 'x', '--timeout', '5x'],
      ['runs', 'wait', 'x', '--interval', '0'],
      ['runs', 'wait', 'x', '--until', 'done'],
      ['runs', 'wait', 'x', '--events', '--json'],
      ['runs', 'wait', 'x', '--json', '-o', 'table'],
      ['runs', 'wait', '-', 'x'],
    ]) {
      await emu.refused(argv);
    }
  });
});
