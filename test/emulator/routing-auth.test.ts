import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem, KEY, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

describe('routing', () => {
  it('serves /health without a key', async () => {
    const res = await h.call('GET', '/health', { key: null });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'healthy', service: 'engram-memory-server' });
  });

  it('gives the URL without a trailing slash and the bound port', () => {
    expect(h.emu.url).toBe(`http://127.0.0.1:${h.emu.port}`);
    expect(h.emu.port).toBeGreaterThan(0);
  });

  it.each(['/v1/nothing', '/v1/memories/', '/groups', '/memories', '/v1/runs/', '/'])(
    'answers %s with a plain-text 404',
    async (path) => {
      const res = await h.call('GET', path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(res.text.trim()).toBe('404 page not found');
    },
  );

  it('answers a wrong method on a known path with a 405 problem listing the allowed methods', async () => {
    const res = await h.call('GET', '/v1/memories');
    const p = expectProblem(res, 405);
    expect(p.title).toBe('Method Not Allowed');
    expect(res.headers.get('allow')).toBe('POST');
    expect(expectProblem(await h.call('PUT', '/v1/memories/search', { body: {} }), 405).detail).toMatch(/PUT/);
  });

  it('fails clearly when the port is taken', async () => {
    const { startEmulator } = await import('../../src/emulator/server.js');
    await expect(startEmulator({ port: h.emu.port, clock: h.clock })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('sends a request id on every answer', async () => {
    const a = await h.call('GET', '/health');
    const b = await h.call('GET', '/health');
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });
});

describe('authentication', () => {
  it('verifies a good key with 204 and no body', async () => {
    const res = await h.call('GET', '/v1/auth/verify');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
  });

  it('401: missing header', async () => {
    const p = expectProblem(await h.call('GET', '/v1/auth/verify', { key: null }), 401);
    expect(p.title).toBe('Unauthorized');
    expect(p.detail).toMatch(/missing Authorization header/);
  });

  it('401: key sent as X-API-Key is ignored (same as missing)', async () => {
    const p = expectProblem(await h.call('GET', '/v1/groups', { key: null, headers: { 'X-API-Key': KEY } }), 401);
    expect(p.detail).toMatch(/missing Authorization header/);
  });

  it.each([`bearer ${KEY}`, `BEARER ${KEY}`, KEY, `Token ${KEY}`])('401: wrong scheme in %j', async (header) => {
    const p = expectProblem(await h.call('GET', '/v1/groups', { key: null, headers: { Authorization: header } }), 401);
    expect(p.detail).toMatch(/Bearer scheme/);
  });

  it('401: key not starting with eng_', async () => {
    const p = expectProblem(await h.call('GET', '/v1/groups', { key: 'sk_live_nope' }), 401);
    expect(p.detail).toMatch(/invalid API key format/);
    expect(expectProblem(await h.call('GET', '/v1/groups', { key: '' }), 401).detail).toMatch(/format|Bearer/);
  });

  it('401: a key outside the configured list, when keys are set', async () => {
    const restricted = await startHarness({ keys: [KEY] });
    try {
      expect((await restricted.call('GET', '/v1/auth/verify')).status).toBe(204);
      const p = expectProblem(await restricted.call('GET', '/v1/auth/verify', { key: 'eng_someone_else' }), 401);
      expect(p.detail).toMatch(/invalid API key/);
      expect(p.detail).not.toMatch(/format/);
    } finally {
      await restricted.close();
    }
  });

  it('checks auth before the body: bad key and bad body give 401', async () => {
    const res = await h.call('POST', '/v1/memories', { key: 'nope', raw: '{not json' });
    expectProblem(res, 401);
  });

  it('never echoes the key', async () => {
    const res = await h.call('GET', '/v1/groups', { key: 'not_a_key_secret_value' });
    expect(res.text).not.toContain('not_a_key_secret_value');
  });
});
