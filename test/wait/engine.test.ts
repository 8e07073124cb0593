import { describe, expect, it } from 'vitest';
import { WaitEngine, type WaitOptions } from '../../src/wait/engine.js';
import { FakeClock } from '../../src/core/fake-clock.js';
import { seededRandom } from '../../src/core/clock.js';
import { APIError, ConnectionError, UserAbortError } from '../../src/api/errors.js';
import type { Run } from '../../src/api/types.js';

const run = (id: string, status: string): Run => ({
  run_id: id,
  status,
  committed_operations: { created: [], updated: [], deleted: [] },
});

/** A fake service: each run completes at a virtual time; the clock holds each poll like HTTP. */
function service(clock: FakeClock, doneAt: Record<string, number>, status = 'completed') {
  const polls: Array<{ id: string; at: number }> = [];
  const fetchRun = (id: string) =>
    clock.hold(
      (async () => {
        polls.push({ id, at: clock.elapsed() });
        return run(id, clock.elapsed() >= doneAt[id]! ? status : 'running');
      })(),
    );
  return { polls, fetchRun };
}

function options(clock: FakeClock, o: Partial<WaitOptions>): WaitOptions {
  return {
    ids: ['a'],
    fetchRun: async () => run('a', 'completed'),
    clock,
    random: seededRandom(7),
    timeoutMs: 600_000,
    intervalMs: 5000,
    requestTimeoutMs: 30_000,
    until: 'completed',
    failFast: false,
    concurrency: 16,
    notFoundGraceMs: 0,
    signal: new AbortController().signal,
    ...o,
  };
}

describe('schedule', () => {
  it('polls at once, then about 250 ms, growing to the interval cap', async () => {
    const clock = new FakeClock();
    const s = service(clock, { a: 60_000 });
    const [r] = await new WaitEngine(options(clock, { fetchRun: s.fetchRun })).run();
    expect(r!.outcome).toBe('completed');
    const at = s.polls.map((p) => p.at);
    expect(at[0]).toBe(0);
    expect(at[1]).toBeGreaterThanOrEqual(225);
    expect(at[1]).toBeLessThanOrEqual(275);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeLessThanOrEqual(5500);
    expect(Math.max(...gaps)).toBeGreaterThan(4000);
    // far fewer than a fixed 0.5 s poll (120 requests for 60 s)
    expect(s.polls.length).toBeLessThan(30);
  });

  it('makes a final poll exactly at the deadline, then times out', async () => {
    const clock = new FakeClock();
    const s = service(clock, { a: Infinity });
    const [r] = await new WaitEngine(options(clock, { fetchRun: s.fetchRun, timeoutMs: 7_000 })).run();
    expect(r!.outcome).toBe('timeout');
    expect(s.polls.at(-1)!.at).toBe(7_000);
    expect(clock.elapsed()).toBe(7_000);
  });

  it('one deadline for many runs: total ≈ deadline, not a multiple', async () => {
    const clock = new FakeClock();
    const s = service(clock, { a: Infinity, b: Infinity, c: Infinity });
    const results = await new WaitEngine(options(clock, { ids: ['a', 'b', 'c'], fetchRun: s.fetchRun, timeoutMs: 10_000 })).run();
    expect(results.map((r) => r.outcome)).toEqual(['timeout', 'timeout', 'timeout']);
    expect(clock.elapsed()).toBe(10_000);
  });
});

describe('faults', () => {
  it('retries transient trouble, announces each kind once, and honours Retry-After past the cap', async () => {
    const clock = new FakeClock();
    let n = 0;
    const polls: number[] = [];
    const retries: string[] = [];
    const fetchRun = (id: string) =>
      clock.hold(
        (async () => {
          polls.push(clock.elapsed());
          n++;
          if (n === 1 || n === 2) throw APIError.from(502, 'Bad Gateway', '<html><title>502 Bad Gateway</title></html>', new Headers());
          if (n === 3) throw new ConnectionError('cannot reach x: connection reset', 'ECONNRESET');
          if (n === 4) throw APIError.from(429, 'Too Many Requests', '', new Headers({ 'retry-after': '12' }));
          return run(id, 'completed');
        })(),
      );
    const [r] = await new WaitEngine(
      options(clock, { fetchRun, intervalMs: 5000, listener: { onRetry: (m) => retries.push(m) } }),
    ).run();
    expect(r!.outcome).toBe('completed');
    expect(retries).toHaveLength(3);
    expect(retries[0]).toMatch(/^poll failed: 502 Bad Gateway, retrying in/);
    expect(retries[2]).toMatch(/429 .*retrying in 12\.0s/);
    expect(polls[4]! - polls[3]!).toBe(12_000);
  });

  it('never sleeps past the deadline for a Retry-After', async () => {
    const clock = new FakeClock();
    const fetchRun = () => clock.hold(Promise.reject(APIError.from(503, '', '', new Headers({ 'retry-after': '200' }))));
    const [r] = await new WaitEngine(options(clock, { fetchRun, timeoutMs: 3000 })).run();
    expect(r!.outcome).toBe('unavailable');
    expect(clock.elapsed()).toBe(3000);
  });

  it('ends at once on 404 without a grace, and keeps polling within the grace', async () => {
    const clock = new FakeClock();
    const nf = () => APIError.from(404, '', '{"detail":"run not found"}', new Headers());
    const [a] = await new WaitEngine(options(clock, { fetchRun: () => clock.hold(Promise.reject(nf())) })).run();
    expect(a!.outcome).toBe('not_found');
    expect(a!.polls).toBe(1);
    let n = 0;
    const [b] = await new WaitEngine(
      options(clock, { notFoundGraceMs: 5000, fetchRun: (id) => clock.hold(++n < 3 ? Promise.reject(nf()) : Promise.resolve(run(id, 'completed'))) }),
    ).run();
    expect(b!.outcome).toBe('completed');
  });

  it('unknown statuses are not terminal and warn once', async () => {
    const clock = new FakeClock();
    const warnings: string[] = [];
    const fetchRun = (id: string) => clock.hold(Promise.resolve(run(id, clock.elapsed() < 3000 ? 'paused' : 'completed')));
    const [r] = await new WaitEngine(options(clock, { fetchRun, listener: { onWarning: (m) => warnings.push(m) } })).run();
    expect(r!.outcome).toBe('completed');
    expect(warnings).toEqual(['unknown run status "paused": not treated as finished, still waiting']);
  });

  it('a terminal status ends --until in_buffer; in_buffer ends it too', async () => {
    const clock = new FakeClock();
    const [a] = await new WaitEngine(options(clock, { until: 'in_buffer', fetchRun: (id) => clock.hold(Promise.resolve(run(id, 'failed'))) })).run();
    expect(a!.outcome).toBe('failed');
    const [b] = await new WaitEngine(options(clock, { until: 'in_buffer', fetchRun: (id) => clock.hold(Promise.resolve(run(id, 'in_buffer'))) })).run();
    expect(b!.outcome).toBe('in_buffer');
  });

  it('--fail-fast stops the others', async () => {
    const clock = new FakeClock();
    const s = service(clock, { a: 1000, b: Infinity });
    const fetchRun = (id: string) => (id === 'a' ? clock.hold(Promise.resolve(run(id, clock.elapsed() >= 1000 ? 'failed' : 'running'))) : s.fetchRun(id));
    const results = await new WaitEngine(options(clock, { ids: ['a', 'b'], fetchRun, failFast: true })).run();
    expect(results.map((r) => r.outcome)).toEqual(['failed', 'cancelled']);
    expect(clock.elapsed()).toBeLessThan(2000);
  });

  it('a user abort throws and stops polling', async () => {
    const clock = new FakeClock();
    const ctrl = new AbortController();
    let n = 0;
    const fetchRun = (id: string) => {
      if (++n === 3) ctrl.abort(new UserAbortError('SIGINT'));
      return clock.hold(Promise.resolve(run(id, 'running')));
    };
    await expect(new WaitEngine(options(clock, { fetchRun, signal: ctrl.signal })).run()).rejects.toBeInstanceOf(UserAbortError);
    expect(n).toBe(3);
  });

  it('bounds requests in flight by the concurrency cap', async () => {
    const clock = new FakeClock();
    let inflight = 0;
    let peak = 0;
    const ids = Array.from({ length: 200 }, (_, i) => `r${i}`);
    const fetchRun = (id: string) =>
      clock.hold(
        (async () => {
          inflight++;
          peak = Math.max(peak, inflight);
          await new Promise((r) => setImmediate(r));
          inflight--;
          return run(id, clock.elapsed() > 1000 ? 'completed' : 'running');
        })(),
      );
    const results = await new WaitEngine(options(clock, { ids, fetchRun, concurrency: 8 })).run();
    expect(results.every((r) => r.outcome === 'completed')).toBe(true);
    expect(peak).toBe(8);
  });
});
