import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGRAM_BIN } from '../helpers/bin.js';
import { memoryOf, percentile, runLoad } from '../helpers/load.js';
import { expectProblem, startHarness, type Harness } from '../emulator/helpers.js';

// The emulator (its own process, `engram emulator`) under 200 concurrent clients adding and
// polling on loopback for a few seconds: no lost runs, no 5xx, memory bounded. The 30-second
// version is bench/emulator-load.bench.mjs. Then: oversized bodies get 413, malformed ones a
// 400/422 problem document, whatever the bytes.

const bin = ENGRAM_BIN;
let child: ChildProcess;
let url: string;

beforeAll(async () => {
  child = spawn(process.execPath, [bin, 'emulator', '--port', '0', '--run-time', '100ms'], { stdio: ['ignore', 'pipe', 'ignore'] });
  url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(l.trim()));
    child.once('exit', (c) => reject(new Error(`emulator exited ${c}`)));
  });
});
afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

describe('200 concurrent clients for 3 s', () => {
  it('every acknowledged run is found and completes; no 5xx; no dropped request; memory bounded', async () => {
    const idle = await memoryOf(child.pid!);
    const r = await runLoad({ url, clients: 200, durationMs: 3000, settleMs: 10_000 });
    const stats = (await (await fetch(`${url}/_emulator/stats`)).json()) as { connections_peak: number; runs: number };
    const mem = await memoryOf(child.pid!);
    const summary = JSON.stringify({ ...r, latencies: undefined, lost: r.lost.length, p99: percentile(r.latencies, 99), mem, idle });
    expect(r.acked, summary).toBeGreaterThan(200); // every client got at least one add through
    expect(Object.keys(r.statuses), summary).toEqual(['200']);
    expect(r.networkErrors, summary).toBe(0);
    expect(r.lost, summary).toEqual([]);
    expect(r.completed, summary).toBe(r.acked);
    expect(stats.runs).toBeGreaterThanOrEqual(r.acked);
    expect(stats.connections_peak).toBeLessThanOrEqual(200 + 5); // keep-alive: one socket per client
    if (mem && idle) {
      // State grows with the runs it keeps (a few KiB each); nothing grows per request.
      expect(mem.peak - idle.current, summary).toBeLessThan(160 * 1024 * 1024 + r.acked * 8 * 1024);
    }
  }, 30_000);

  it('then: a body over the limit is 413 (declared or streamed), and the server keeps serving', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024 + 1);
    const declared = await fetch(`${url}/v1/memories`, { method: 'POST', headers: { authorization: 'Bearer eng_load_test', 'content-type': 'application/json' }, body: big });
    expect(declared.status).toBe(413);
    expect(declared.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await declared.json()) as { detail: string }).detail).toMatch(/larger than the limit of 10485760 bytes/);
    // Chunked: no Content-Length, the size is only known while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${url}/v1/memories`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { authorization: 'Bearer eng_load_test', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 12) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});

describe('malformed bodies: a 400/422 problem document, never a 5xx', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('any bytes to add, search and list (300 runs)', async () => {
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.constantFrom('{', '{"input":', '[]', 'null', '{"input": {"string": {"content": "x"}}}', '{"query": ""}', '{"limit": 1e999}', '{"__proto__": {"input": 1}}', '\ufeff{}'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/memories', '/v1/memories/search', '/v1/memories/list'), body, async (path, raw) => {
        const res = await h.call('POST', path, { raw });
        expect(res.status, `${path} ${JSON.stringify(raw)} → ${res.text}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect([400, 422]).toContain(res.status);
          expectProblem(res, res.status);
        }
      }),
      { numRuns: 300 },
    );
    expect((await h.call('GET', '/health')).status).toBe(200);
  });
});
