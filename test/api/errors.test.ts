import { describe, expect, it } from 'vitest';
import {
  APIError,
  AuthenticationError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
  parseErrorBody,
} from '../../src/api/errors.js';
import { Backoff, serverRetryDelayMs } from '../../src/api/retry.js';
import { seededRandom } from '../../src/core/clock.js';

const h = (o: Record<string, string> = {}) => new Headers(o);

describe('error bodies', () => {
  it('prefers detail, then message, then title', () => {
    expect(parseErrorBody('{"detail":"d","message":"m","title":"t"}', 'x').detail).toBe('d');
    expect(parseErrorBody('{"message":"m","title":"t"}', 'x').detail).toBe('m');
    expect(parseErrorBody('{"title":"t"}', 'x').detail).toBe('t');
    expect(parseErrorBody('{}', 'Bad Gateway').detail).toBe('Bad Gateway');
  });
  it('uses plain text and HTML titles, and the reason phrase for empty bodies', () => {
    expect(parseErrorBody('404 page not found\n', 'Not Found').detail).toBe('404 page not found');
    expect(parseErrorBody('<html><head><title>502 Bad Gateway</title></head></html>', 'x').detail).toBe('502 Bad Gateway');
    expect(parseErrorBody('', 'Service Unavailable').detail).toBe('Service Unavailable');
  });
  it('keeps errors[] locations as hints', () => {
    const e = APIError.from(
      422,
      'Unprocessable Entity',
      JSON.stringify({ detail: 'validation failed', errors: [{ location: 'body.input', message: 'expected object' }] }),
      h({ 'x-request-id': 'req-1' }),
    );
    expect(e).toBeInstanceOf(UnprocessableEntityError);
    expect(e.hints).toEqual(['body.input: expected object']);
    expect(e.requestId).toBe('req-1');
    expect(e.exitCode).toBe(6);
  });
  it.each([
    [401, AuthenticationError, 4],
    [403, PermissionDeniedError, 4],
    [404, NotFoundError, 5],
    [429, RateLimitError, 6],
    [503, InternalServerError, 7],
  ] as const)('status %i → %s, exit %i', (status, cls, code) => {
    const e = APIError.from(status, '', '', h());
    expect(e).toBeInstanceOf(cls);
    expect(e.exitCode).toBe(code);
  });
});

describe('server retry delays', () => {
  const now = Date.parse('2026-12-03T10:00:00Z');
  it('reads retry-after-ms first, then Retry-After seconds or date', () => {
    expect(serverRetryDelayMs(h({ 'retry-after-ms': '1500', 'retry-after': '9' }), now)).toBe(1500);
    expect(serverRetryDelayMs(h({ 'retry-after': '3' }), now)).toBe(3000);
    expect(serverRetryDelayMs(h({ 'retry-after': new Date(now + 7000).toUTCString() }), now)).toBe(7000);
  });
  it('ignores absurd values', () => {
    expect(serverRetryDelayMs(h({ 'retry-after': '-5' }), now)).toBeUndefined();
    expect(serverRetryDelayMs(h({ 'retry-after': '99999' }), now)).toBeUndefined();
    expect(serverRetryDelayMs(h({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(serverRetryDelayMs(h({ 'retry-after-ms': 'NaN' }), now)).toBeUndefined();
  });
});

describe('Backoff', () => {
  it('grows geometrically to the cap, within the jitter band', () => {
    const b = new Backoff({ baseMs: 250, factor: 1.3, capMs: 5000, jitter: 0.1, random: seededRandom(1) });
    const seq = Array.from({ length: 30 }, () => b.next());
    expect(seq[0]).toBeGreaterThanOrEqual(225);
    expect(seq[0]).toBeLessThanOrEqual(275);
    for (const d of seq) expect(d).toBeLessThanOrEqual(5500);
    expect(seq.slice(-5).every((d) => d >= 4500)).toBe(true);
    expect(seq[5]!).toBeGreaterThan(seq[0]!);
  });
});
