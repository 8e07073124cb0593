import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseProperties, validateId } from '../../src/cli/flags.js';
import { UsageError } from '../../src/api/errors.js';
import { worstExitCode, ExitCode } from '../../src/cli/exit-codes.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['90', 90_000],
    ['1.5', 1500],
    ['0', 0],
  ])('%s → %i ms', (input, ms) => {
    expect(parseDuration(input, '--timeout')).toBe(ms);
  });

  it.each(['5x', '', 's', '-1s', '1 m', '10d', 'ms', '1h2x'])('rejects %j naming the flag', (input) => {
    expect(() => parseDuration(input, '--timeout')).toThrow(UsageError);
    expect(() => parseDuration(input, '--timeout')).toThrow(/--timeout/);
  });

  it('formats durations for people', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(2100)).toBe('2.1s');
    expect(formatDuration(62_000)).toBe('1m02s');
    expect(formatDuration(3_720_000)).toBe('1h02m');
  });
});

describe('validateId', () => {
  it.each(['019e8742-5a4d-7698-88a5-f714efe876d1', 'a/b', 'x?y#z', '100%', 'ünïcode'])('accepts %j (encoded later)', (id) => {
    expect(validateId(id)).toBe(id);
  });
  it.each(['', '.', '..', ' abc', 'abc\n', 'a\tb', 'a\u0000b', 'a\u007fb'])('rejects %j', (id) => {
    expect(() => validateId(id, 'run id')).toThrow(UsageError);
  });
});

describe('parseProperties', () => {
  it('parses k=v pairs and keeps = in values', () => {
    expect(parseProperties(['a=1', 'b=x=y'])).toEqual({ a: '1', b: 'x=y' });
  });
  it('rejects a pair without a key', () => {
    expect(() => parseProperties(['=1'])).toThrow(/--property key=value/);
    expect(() => parseProperties(['novalue'])).toThrow(UsageError);
  });
});

describe('worstExitCode', () => {
  it('follows the contract precedence 4, 7, 1, 5, 6, 3, 124', () => {
    expect(worstExitCode([ExitCode.TIMEOUT, ExitCode.RUN_FAILED])).toBe(ExitCode.RUN_FAILED);
    expect(worstExitCode([ExitCode.RUN_FAILED, ExitCode.NOT_FOUND])).toBe(ExitCode.NOT_FOUND);
    expect(worstExitCode([ExitCode.NOT_FOUND, ExitCode.UNAVAILABLE, ExitCode.AUTH])).toBe(ExitCode.AUTH);
    expect(worstExitCode([ExitCode.OK, ExitCode.OK])).toBe(ExitCode.OK);
    expect(worstExitCode([])).toBe(ExitCode.OK);
  });
});

import { resolveFormat } from '../../src/output/format.js';

describe('resolveFormat', () => {
  it('defaults to table on a TTY and the plain layout in a pipe', () => {
    expect(resolveFormat(undefined, false, true)).toBe('table');
    expect(resolveFormat(undefined, false, false)).toBe('plain');
  });
  it('honours an explicit -o table in a pipe', () => {
    expect(resolveFormat('table', false, false)).toBe('table');
  });
  it('--json conflicts with another -o', () => {
    expect(() => resolveFormat('table', true, true)).toThrow('--json conflicts with --output table; give one of them');
    expect(resolveFormat('json', true, false)).toBe('json');
  });
  it('rejects unknown formats naming the choices', () => {
    expect(() => resolveFormat('yaml', false, true)).toThrow('invalid --output "yaml"; use one of: table, json, ndjson');
  });
});

describe('parseDuration rounding', () => {
  it('rounds up, so only an exact 0 means zero (--timeout 0 = no limit)', () => {
    expect(parseDuration('0.4ms', '--timeout')).toBe(1);
    expect(parseDuration('0.0001ms', '--timeout')).toBe(1);
    expect(parseDuration('0.0001', '--timeout')).toBe(1);
    expect(parseDuration('0ms', '--timeout')).toBe(0);
    expect(parseDuration('1.5ms', '--timeout')).toBe(2);
    expect(parseDuration('1.1', '--timeout')).toBe(1100);
    expect(parseDuration('0.3s', '--timeout')).toBe(300);
  });
});
