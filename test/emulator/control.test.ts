import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem, KEY, opIds, RUN_TIME, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

const fault = async (spec: object) => {
  const res = await h.call('POST', '/_emulator/faults', { body: spec, key: null });
  expect(res.status).toBe(201);
  return res.json.fault_id as string;
};
const control = (id: string, body: object) => h.call('POST', `/_emulator/runs/${id}`, { body, key: null });

describe('faults: respond', () => {
  it('answers the next `count` matching requests with the scripted status, body and retry headers', async () => {
    await fault({
      method: 'GET',
      path: '/v1/runs/',
      count: 2,
      status: 503,
      body: { detail: 'try later' },
      headers: { 'X-Fault': 'yes' },
      retry_after: '7',
      retry_after_ms: 1500,
    });
    const id = await h.addText('alice', ['Hello.']); // POST is not matched
    for (let i = 0; i < 2; i++) {
      const res = await h.call('GET', `/v1/runs/${id}`);
      expect(res.status).toBe(503);
      expect(res.json).toEqual({ detail: 'try later' });
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.headers.get('retry-after-ms')).toBe('1500');
      expect(res.headers.get('x-fault')).toBe('yes');
    }
    expect((await h.call('GET', `/v1/runs/${id}`)).status).toBe(200);
  });

  it('defaults to one 502 problem document for any request, and never faults the control surface', async () => {
    const id = await fault({});
    expect((await h.call('GET', '/_emulator/stats', { key: null })).status).toBe(200);
    const p = expectProblem(await h.call('GET', '/health'), 502);
    expect(p.detail).toContain(id);
    expect((await h.call('GET', '/health')).status).toBe(200);
  });

  it('gives 429 on adds, e.g. to test a plan limit', async () => {
    await fault({ method: 'POST', path: '/v1/memories', status: 429, body: { detail: 'monthly run limit reached' } });
    const res = await h.call('POST', '/v1/memories', { body: { input: { string: { content: ['x.'] } }, user_id: 'a' } });
    expect(res.status).toBe(429);
    expect(res.json.detail).toBe('monthly run limit reached');
    expect((await h.call('GET', '/_emulator/stats', { key: null })).json.runs).toBe(0);
  });

  it('sends a string body verbatim with its content type', async () => {
    await fault({ path: '/health', status: 500, body: '<html>oops</html>', content_type: 'text/html' });
    const res = await h.call('GET', '/health');
    expect(res.status).toBe(500);
    expect(res.text).toBe('<html>oops</html>');
    expect(res.headers.get('content-type')).toBe('text/html');
  });

  it('consumes faults in FIFO order and lists what is pending; DELETE clears them', async () => {
    const a = await fault({ path: '/health', status: 500 });
    const b = await fault({ path: '/health', status: 501, count: 3 });
    const listed = (await h.call('GET', '/_emulator/faults', { key: null })).json.faults;
    expect(listed.map((f: any) => [f.fault_id, f.remaining])).toEqual([
      [a, 1],
      [b, 3],
    ]);
    expect((await h.call('GET', '/health')).status).toBe(500);
    expect((await h.call('GET', '/health')).status).toBe(501);
    expect((await h.call('GET', '/_emulator/faults', { key: null })).json.faults).toEqual([
      expect.objectContaining({ fault_id: b, remaining: 2 }),
    ]);
    const cleared = await h.call('DELETE', '/_emulator/faults', { key: null });
    expect(cleared.json).toEqual({ cleared: 1 });
    expect((await h.call('GET', '/health')).status).toBe(200);
  });

  it('422 for a malformed fault spec', async () => {
    const p = expectProblem(await h.call('POST', '/_emulator/faults', { body: { action: 'explode', counts: 2 }, key: null }), 422);
    expect(p.errors.map((e: any) => e.location).sort()).toEqual(['body.action', 'body.counts']);
  });
});

describe('faults: connection-level actions', () => {
  it('drop: the socket closes without a response', async () => {
    await fault({ path: '/health', action: 'drop' });
    await expect(fetch(`${h.emu.url}/health`)).rejects.toThrow();
    expect((await h.call('GET', '/health')).status).toBe(200);
  });

  it('truncate: headers promise more bytes than arrive, then the socket ends', async () => {
    await fault({ path: '/v1/runs/', action: 'truncate', body: '{"run_id":"abc' });
    const res = await fetch(`${h.emu.url}/v1/runs/whatever`, { headers: { Authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan('{"run_id":"abc'.length);
    await expect(res.text()).rejects.toThrow();
  });

  it('empty: 200 with an empty body', async () => {
    await fault({ path: '/v1/groups', action: 'empty' });
    const res = await h.call('GET', '/v1/groups');
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers.get('content-length')).toBe('0');
  });
});

describe('faults: delay (virtual time)', () => {
  it('delays normal handling by delay_ms on the clock, without real sleeping', async () => {
    await fault({ path: '/health', delay_ms: 30_000 });
    const t0 = h.clock.now();
    const wall = performance.now();
    const res = await h.call('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('healthy');
    expect(h.clock.now() - t0).toBeGreaterThanOrEqual(30_000);
    expect(performance.now() - wall).toBeLessThan(5_000);
  });

  it('delays before acting when combined with a status', async () => {
    await fault({ path: '/health', delay_ms: 45_000, status: 504 });
    const t0 = h.clock.now();
    expectProblem(await h.call('GET', '/health'), 504);
    expect(h.clock.now() - t0).toBeGreaterThanOrEqual(45_000);
  });

  it('lets the run lifecycle see the time that passed during the delay', async () => {
    const id = await h.addText('alice', ['Slow network.']);
    await fault({ path: '/v1/runs/', delay_ms: RUN_TIME });
    expect((await h.run(id)).status).toBe('completed');
  });
});

describe('run control', () => {
  it('completed: commits the run now, before --run-time', async () => {
    const id = await h.addText('alice', ['Forced fact.']);
    const res = await control(id, { status: 'completed' });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('completed');
    expect(opIds(res.json).created).toHaveLength(1);
    const run = await h.run(id);
    expect(run.status).toBe('completed');
    expect(run.updated_at).toBe(run.created_at);
  });

  it('failed: fails now with the default or the given error', async () => {
    const a = await h.addText('alice', ['Will fail.']);
    expect((await control(a, { status: 'failed' })).json.error).toBe('failed on purpose (emulator control)');
    const b = await h.addText('alice', ['Will fail too.']);
    await control(b, { status: 'failed', error: 'model overloaded' });
    h.clock.advance(RUN_TIME);
    const run = await h.run(b);
    expect(run).toMatchObject({ status: 'failed', error: 'model overloaded' });
    expect(run.committed_operations.created).toEqual([]);
  });

  it('any other status pins the run until release resumes its lifecycle', async () => {
    const id = await h.addText('alice', ['Pinned fact.']);
    expect((await control(id, { status: 'paused' })).json.status).toBe('paused');
    h.clock.advance(RUN_TIME * 10);
    expect((await h.run(id)).status).toBe('paused');
    await control(id, { status: 'in_buffer' });
    expect((await h.run(id)).status).toBe('in_buffer');
    const released = await control(id, { release: true });
    expect(released.json.status).toBe('completed');
    expect(opIds(released.json).created).toHaveLength(1);
  });

  it('pinning running keeps a run running; release before its due time leaves it running', async () => {
    const id = await h.addText('alice', ['Patience.']);
    await control(id, { status: 'running' });
    expect((await control(id, { release: true })).json.status).toBe('running');
    h.clock.advance(RUN_TIME);
    expect((await h.run(id)).status).toBe('completed');
  });

  it('a pinned buffered run does not count toward the trigger until released', async () => {
    const ids = [];
    for (const t of ['One.', 'Two.', 'Three.']) ids.push(await h.addText('alice', [t], { group: 'digest' }));
    await control(ids[0]!, { status: 'in_buffer' }); // pinned while still running
    h.clock.advance(RUN_TIME);
    expect((await h.run(ids[1]!)).status).toBe('in_buffer');
    await control(ids[0]!, { release: true });
    for (const id of ids) expect((await h.run(id)).status).toBe('completed');
  });

  it('DELETE forgets a run: GET is 404 afterwards', async () => {
    const id = await h.addText('alice', ['Forget me.']);
    expect((await h.call('DELETE', `/_emulator/runs/${id}`, { key: null })).status).toBe(204);
    expectProblem(await h.call('GET', `/v1/runs/${id}`), 404);
    expectProblem(await h.call('DELETE', `/_emulator/runs/${id}`, { key: null }), 404);
  });

  it('rejects unknown runs and bodies without an instruction', async () => {
    const id = await h.addText('alice', ['Hi.']);
    expectProblem(await control(id.replace(/^.{8}/, '00000000'), { status: 'completed' }), 404);
    expectProblem(await control(id, {}), 400);
    expectProblem(await control(id, { status: 'paused', release: true }), 400);
    expectProblem(await control(id, { status: 5 }), 422);
  });
});

describe('flush, stats, reset', () => {
  it('flushes a group buffer in every project', async () => {
    const a = await h.addText('alice', ['Buffered A.'], { group: 'digest' });
    const b = await h.addText('bob', ['Buffered B.'], { group: 'digest' }, 'eng_test_gamma');
    h.clock.advance(RUN_TIME);
    expect((await h.run(a)).status).toBe('in_buffer');
    const res = await h.call('POST', '/_emulator/groups/digest/flush', { key: null });
    expect(res.json).toEqual({ group: 'digest', completed_runs: 2 });
    expect((await h.run(a)).status).toBe('completed');
    expect((await h.run(b, 'eng_test_gamma')).status).toBe('completed');
    expect((await h.call('POST', '/_emulator/groups/default/flush', { key: null })).json.completed_runs).toBe(0);
    expectProblem(await h.call('POST', '/_emulator/groups/nope/flush', { key: null }), 404);
  });

  it('counts requests, connections, projects, runs and memories', async () => {
    const s0 = (await h.call('GET', '/_emulator/stats', { key: null })).json;
    expect(s0).toMatchObject({ projects: 0, runs: 0, memories: 0 });
    expect(s0.requests).toBe(1);
    expect(s0.connections_open).toBeGreaterThanOrEqual(1);
    await h.addText('alice', ['One. Two.']);
    await h.addText('alice', ['Three.'], {}, 'eng_test_gamma');
    h.clock.advance(RUN_TIME);
    const s1 = (await h.call('GET', '/_emulator/stats', { key: null })).json;
    expect(s1).toMatchObject({ projects: 2, runs: 2, memories: 3, requests: 4 });
    expect(s1.connections_peak).toBeGreaterThanOrEqual(s1.connections_open);
    expect(h.emu.stats()).toMatchObject({ projects: 2, runs: 2, memories: 3, requests: 4 });
  });

  it('reset clears all state and faults', async () => {
    const id = await h.addText('alice', ['Gone soon.']);
    await fault({ path: '/nothing-matches-this' });
    expect((await h.call('POST', '/_emulator/reset', { key: null })).status).toBe(204);
    expectProblem(await h.call('GET', `/v1/runs/${id}`), 404);
    expect((await h.call('GET', '/_emulator/faults', { key: null })).json.faults).toEqual([]);
    expect((await h.call('GET', '/_emulator/stats', { key: null })).json).toMatchObject({ projects: 1, runs: 0, memories: 0 });
  });
});

describe('robustness', () => {
  it('survives a client that disconnects mid-body', async () => {
    await new Promise<void>((resolve) => {
      const req = request(`${h.emu.url}/v1/memories`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Length': '1000' },
      });
      req.on('error', () => resolve());
      req.write('{"input":', () => {
        req.destroy();
        resolve();
      });
    });
    expect((await h.call('GET', '/health')).status).toBe(200);
  });

  it('answers odd inputs with 4xx, never a crash', async () => {
    const bodies = [
      'null',
      '[]',
      '"x"',
      '1e999',
      '{"input":null}',
      '{"input":{"string":{"content":null}}}',
      '{"__proto__":{"x":1}}',
      '{"input":{"string":{"content":["\\ud800"]}},"user_id":"\\u0000"}',
    ];
    for (const path of ['/v1/memories', '/v1/memories/search', '/v1/memories/list', '/_emulator/faults', '/_emulator/runs/x'])
      for (const raw of bodies) {
        const res = await h.call('POST', path, { raw });
        expect(res.status, `${path} ${raw}`).toBeLessThan(500);
      }
    for (const path of ['/v1/runs/%E0%A4%A', '/v1/memories/%00', '/v1/runs/..%2F..', '//', '/v1//runs'])
      expect((await h.call('GET', path)).status).toBeLessThan(500);
    expect((await h.call('GET', '/health')).status).toBe(200);
  });

  it('close() resolves with idle keep-alive connections open', async () => {
    const other = await startHarness();
    await other.call('GET', '/health');
    expect(other.emu.stats().connections_open).toBeGreaterThanOrEqual(1);
    await other.close();
    await expect(fetch(`${other.emu.url}/health`)).rejects.toThrow();
  });
});
