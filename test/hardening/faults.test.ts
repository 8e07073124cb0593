import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cli, closedPortUrl } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

// Faults from the emulator's control surface against the real CLI on the shared virtual clock:
// every one ends in a clear error or a retry (per the wait engine), never a crash or a hang.

const emu = useEmulator({ runTimeMs: 2000 });
const run = emu.run;
const add = (user = 'faults') => emu.addRaw({ input: { string: { content: ['A fact. Another fact.'] } }, user_id: user });
const fault = (spec: Record<string, unknown>) => emu.control('/_emulator/faults', spec);
const HTML = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>';

/** Run the CLI and count the requests it made. */
async function measured(argv: string[], o: Parameters<typeof cli>[1] = {}) {
  const before = emu.emu.stats().requests;
  const t0 = emu.clock.now();
  const r = await run(argv, o);
  return { ...r, requests: emu.emu.stats().requests - before, virtualMs: emu.clock.now() - t0 };
}

function clean(r: { code: number; stderr: string }) {
  expect(r.code, r.stderr).not.toBe(1); // never "unexpected error"
  expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack trace
  expect(r.stderr).not.toMatch(/unexpected|this is a bug/);
}

describe('runs get (no wait loop): each fault is a clear error, or a retry that succeeds', () => {
  // [name, fault (count 3 = every attempt: the first plus two retries), exit code, stderr]
  const persistent: Array<[string, Record<string, unknown>, number, RegExp]> = [
    ['500 problem document', { status: 500 }, 7, /^error: 500 injected fault .*\(emulator control\)$/m],
    ['503 with Retry-After', { status: 503, retry_after: '2' }, 7, /^error: 503 /m],
    ['429 rate limited', { status: 429, body: { detail: 'slow down' } }, 6, /^error: 429 slow down$/m],
    ['slower than the request timeout', { delay_ms: 40_000 }, 7, /^error: request timed out after 30s$/m],
    ['a truncated body', { action: 'truncate', body: '{"run_id": "019e8742-5a4d' }, 7, /^error: connection closed while reading the response from 127\.0\.0\.1:\d+$/m],
    ['a dropped connection', { action: 'drop' }, 7, /^error: cannot reach 127\.0\.0\.1:\d+: (connection reset|connection closed by the server|socket hang up)/m],
    ['an empty 200', { action: 'empty' }, 7, /^error: empty response body \(HTTP 200\)$/m],
    ['an HTML page with 200', { status: 200, body: HTML, content_type: 'text/html' }, 7, /^error: response is not valid JSON: text\/html$/m],
    ['an HTML 502 error page', { status: 502, body: HTML, content_type: 'text/html' }, 7, /^error: 502 Bad Gateway$/m],
    ['a JSON array', { status: 200, body: [1, 2] }, 7, /^error: run response is not a JSON object$/m],
    ['a run without run_id', { status: 200, body: { status: 'completed' } }, 7, /^error: run response has no run_id or status$/m],
    ['a truncated problem document', { status: 500, body: '{"detail": "half', content_type: 'application/problem+json' }, 7, /^error: 500 \{"detail": "half$/m],
  ];
  it.each(persistent)('%s, every time', async (_name, spec, code, message) => {
    const id = await add();
    await fault({ method: 'GET', path: '/v1/runs/', count: 3, ...spec });
    const r = await measured(['runs', 'get', id]);
    clean(r);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(r.requests).toBe(3); // idempotent: two retries, then the error
  });

  const transient: Array<[string, Record<string, unknown>]> = [
    ['a 502 once', { status: 502 }],
    ['a drop once', { action: 'drop' }],
    ['a truncation once', { action: 'truncate' }],
    ['an empty body once', { action: 'empty' }],
    ['a slow answer once', { delay_ms: 40_000 }],
    ['an HTML page once', { status: 200, body: HTML, content_type: 'text/html' }],
  ];
  it.each(transient)('%s: retried, then shown', async (_name, spec) => {
    const id = await add();
    await fault({ method: 'GET', path: '/v1/runs/', ...spec });
    const r = await measured(['runs', 'get', id, '--json']);
    clean(r);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).run_id).toBe(id);
    expect(r.requests).toBe(2);
  });

  it('honours Retry-After between retries (virtual time)', async () => {
    const id = await add();
    await fault({ method: 'GET', path: '/v1/runs/', count: 2, status: 503, retry_after: '4' });
    const r = await measured(['runs', 'get', id, '--json']);
    expect(r.code).toBe(0);
    expect(r.virtualMs).toBeGreaterThanOrEqual(8000);
  });

  it('a wrong content type on a valid run is accepted (the body is what counts)', async () => {
    const id = await add();
    const body = JSON.parse(JSON.stringify((await emu.control(`/_emulator/runs/${id}`, { status: 'running' })) as object));
    await fault({ method: 'GET', path: `/v1/runs/${id}`, status: 200, body: JSON.stringify(body), content_type: 'text/plain' });
    const r = await measured(['runs', 'get', id, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('running');
  });

  it('the plain-text 404 of an unknown route: exit 5', async () => {
    await fault({ method: 'GET', path: '/v1/runs/', status: 404, body: '404 page not found\n' });
    const r = await measured(['runs', 'get', 'abc']);
    clean(r);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: 404 page not found$/m);
  });

  it('a redirect is not followed (the key would go with it): exit 6, nothing reaches the target', async () => {
    let hits = 0;
    const other = createServer((_req, res) => {
      hits++;
      res.end('{}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const target = `http://127.0.0.1:${(other.address() as { port: number }).port}/v1/runs/x`;
    try {
      await fault({ method: 'GET', path: '/v1/runs/', status: 302, headers: { Location: target }, body: '' });
      const r = await measured(['runs', 'get', 'abc']);
      clean(r);
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(/^error: 302 /m);
      expect(hits).toBe(0);
    } finally {
      other.close();
    }
  });

  it('unreachable: exit 7 after the retries, with the host', async () => {
    const r = await run(['runs', 'get', 'abc', '--base-url', await closedPortUrl()]);
    clean(r);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: cannot reach 127\.0\.0\.1:\d+: connection refused$/m);
  });
});

describe('a huge run: 100,000 committed operations', () => {
  it('runs get --json has every id; piped lists every id; a TTY shows 20 and the count', async () => {
    const id = await add('huge');
    await emu.control(`/_emulator/runs/${id}`, { status: 'completed', synthetic_operations: 100_000 });
    const json = await run(['runs', 'get', id, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.committed_operations.created.length).toBe(100_002); // two real sentences too
    expect(new Set(doc.committed_operations.created.map((o: { memory_id: string }) => o.memory_id)).size).toBe(100_002);
    const piped = await run(['runs', 'get', id]);
    expect(piped.stdout.match(/^created_memory: [0-9a-f]{8}-/gm)).toHaveLength(100_002);
    expect(piped.stdout).toMatch(/^operations: \+100002 ~0 -0$/m);
    const tty = await run(['runs', 'get', id, '--color', 'never'], { tty: true });
    expect(tty.stdout).toMatch(/… 99982 more \(use --json for all\)/);
    expect(tty.stdout.split('\n').length).toBeLessThan(40);
    const wait = await run(['runs', 'wait', id, '-o', 'ndjson']);
    expect(wait.code).toBe(0);
    expect(JSON.parse(wait.stdout).committed_operations.created).toHaveLength(100_002);
  });
});

describe('runs wait: transient trouble is retried until the deadline', () => {
  const transient: Array<[string, Record<string, unknown>, RegExp]> = [
    ['502s', { status: 502 }, /poll failed: 502 injected fault/],
    ['503s with Retry-After', { status: 503, retry_after: '1' }, /poll failed: 503/],
    ['dropped connections', { action: 'drop' }, /poll failed: cannot reach/],
    ['truncated bodies', { action: 'truncate' }, /poll failed: connection closed while reading/],
    ['empty bodies', { action: 'empty' }, /poll failed: empty response body/],
    ['answers slower than the request timeout', { delay_ms: 60_000 }, /poll failed: request timed out after 30s/],
    ['HTML error pages', { status: 502, body: HTML, content_type: 'text/html' }, /poll failed: 502 Bad Gateway/],
    ['HTML with 200', { status: 200, body: HTML, content_type: 'text/html' }, /poll failed: response is not valid JSON: text\/html/],
  ];
  it.each(transient)('%s ×4, then the run completes: exit 0, the trouble announced once', async (_name, spec, message) => {
    const id = await add();
    await fault({ method: 'GET', path: '/v1/runs/', count: 4, ...spec });
    const r = await measured(['runs', 'wait', id]);
    clean(r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(new RegExp(message.source, 'g'))).toHaveLength(1);
    expect(r.stdout).toMatch(/ completed · ran [\d.]+m?s · waited /);
    expect(r.requests).toBeGreaterThanOrEqual(5);
  });

  it('a service that never answers usefully: exit 7 at the deadline, with the reason', async () => {
    const id = await add();
    await fault({ method: 'GET', path: '/v1/runs/', count: 1000, status: 500 });
    const r = await measured(['runs', 'wait', id, '--timeout', '2m']);
    await emu.control('/_emulator/faults', undefined, 'DELETE');
    clean(r);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^unavailable: the service gave no useful answer before the deadline/m);
    expect(r.virtualMs).toBeGreaterThanOrEqual(120_000);
    expect(r.virtualMs).toBeLessThan(125_000);
  });

  it('404 ends at once with exit 5 (no grace outside memories add --wait)', async () => {
    await fault({ method: 'GET', path: '/v1/runs/', status: 404 });
    const r = await measured(['runs', 'wait', 'abc']);
    clean(r);
    expect(r.code).toBe(5);
    expect(r.requests).toBe(1);
  });
});

describe('memories add: a POST is never re-sent once it may have arrived', () => {
  const cases: Array<[string, Record<string, unknown>, number, RegExp]> = [
    ['502', { status: 502 }, 7, /^error: 502 /m],
    ['a dropped connection', { action: 'drop' }, 7, /^error: cannot reach/m],
    ['a truncated answer', { action: 'truncate' }, 7, /^error: connection closed while reading the response/m],
    ['an empty 200', { action: 'empty' }, 7, /^error: empty response body \(HTTP 200\)$/m],
    ['an answer slower than the timeout', { delay_ms: 60_000 }, 7, /^error: request timed out after 30s$/m],
    ['an HTML page', { status: 200, body: HTML, content_type: 'text/html' }, 7, /^error: response is not valid JSON: text\/html$/m],
    ['a 200 without run_id', { status: 200, body: { status: 'running' } }, 7, /^error: add response has no run_id$/m],
    ['429 plan limit', { status: 429, body: { detail: 'monthly run limit reached' } }, 6, /^error: 429 monthly run limit reached$/m],
  ];
  it.each(cases)('%s: one request, a clear error', async (_name, spec, code, message) => {
    await fault({ method: 'POST', path: '/v1/memories', ...spec });
    const r = await measured(['memories', 'add', 'A fact.', '--user-id', 'u']);
    clean(r);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.requests).toBe(1);
  });
});

describe('a body over the server\'s limit', () => {
  it('memories add of 12 MB (under the CLI\'s 25 MiB, over the emulator\'s 10 MiB): the 413 is shown, not a reset', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const p = join(mkdtempSync(join(tmpdir(), 'engram-413-')), 'big.txt');
    writeFileSync(p, 'The user writes a lot. '.repeat(12 * 1024 * 1024 / 23));
    const r = await measured(['memories', 'add', '--file', p, '--user-id', 'u']);
    clean(r);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/^error: 413 request body is larger than the limit of 10485760 bytes$/m);
    expect(r.requests).toBe(1);
  });
});

describe('a response without end', () => {
  it('is cut off at the size limit with a clear error, memory bounded; a declared huge length too', async () => {
    const { EngramClient } = await import('../../src/api/client.js');
    const { MalformedResponseError } = await import('../../src/api/errors.js');
    const { FakeClock } = await import('../../src/core/fake-clock.js');
    let streamed = 0;
    const endless = createServer((req, res) => {
      if (req.url?.includes('declared')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 ** 3) });
        res.write('{"run_id": "');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let open = true;
      res.on('close', () => (open = false));
      const pump = () => {
        while (open && res.write(chunk)) streamed += chunk.length;
        if (open) res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', r));
    try {
      const client = new EngramClient({
        baseUrl: `http://127.0.0.1:${(endless.address() as { port: number }).port}`,
        apiKey: 'eng_x_endless',
        clock: new FakeClock(),
        random: () => 0.5,
        timeoutMs: 30_000,
        clientVersion: 'test',
        maxRetries: 0,
        maxResponseBytes: 4 * 1024 * 1024,
      });
      const err = await client.runs.get('endless').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MalformedResponseError);
      expect((err as Error).message).toMatch(/^the response is larger than 4 MiB \(from 127\.0\.0\.1:\d+\)$/);
      expect(streamed).toBeLessThan(64 * 1024 * 1024); // it stopped reading
      const declared = await client.runs.get('declared').catch((e: unknown) => e);
      expect((declared as Error).message).toMatch(/^the response is larger than 4 MiB/);
    } finally {
      endless.closeAllConnections();
      endless.close();
    }
  });
});
