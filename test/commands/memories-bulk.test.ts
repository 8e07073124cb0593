import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatLineList, parseLineList } from '../../src/commands/memories/bulk-add.js';
import { cli, closedPortUrl } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const emu = useEmulator({ runTimeMs: 2000 });
const tmp = mkdtempSync(join(tmpdir(), 'engram-bulk-'));
const state = mkdtempSync(join(tmpdir(), 'engram-bulk-state-'));
const env = () => ({ ...emu.env, XDG_STATE_HOME: state });
const run = (argv: string[], o: Parameters<typeof cli>[1] = {}) => cli(argv, { env: env(), clock: emu.clock, ...o });
let fileNo = 0;
const jsonl = (lines: string[]) => {
  const p = join(tmp, `in-${++fileNo}.jsonl`);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
};
const textLines = (count: number, tag: string) => Array.from({ length: count }, (_, i) => JSON.stringify(`${tag} fact number ${i + 1}.`));

interface Rec {
  line: number;
  outcome: 'accepted' | 'rejected' | 'unknown' | 'not_sent';
  run_id?: string;
  status?: string;
  error?: string;
  http_status?: number | null;
}
const records = (stdout: string): Rec[] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
const linesOf = (recs: Rec[], outcome: Rec['outcome']) => recs.filter((r) => r.outcome === outcome).map((r) => r.line).sort((a, b) => a - b);
const runsOnServer = () => emu.emu.stats().runs;

/** Every selected line appears exactly once with exactly one of the four outcomes. */
function expectAccounted(recs: Rec[], lines: number[]): void {
  const seen = recs.map((r) => r.line).sort((a, b) => a - b);
  expect(seen).toEqual([...lines].sort((a, b) => a - b));
  for (const r of recs) {
    expect(['accepted', 'rejected', 'unknown', 'not_sent']).toContain(r.outcome);
    if (r.outcome === 'accepted') expect(r.run_id).toMatch(/^[0-9a-f-]{36}$/);
    else expect(r.error).toMatch(/\S/);
  }
}

/** The resume command from the summary, as argv for cli(). */
function resumeArgv(stderr: string): string[] {
  const m = /resume with: engram (.*?)(?:\s{3}\(pipe.*)?$/m.exec(stderr);
  expect(m, stderr).not.toBeNull();
  return m![1]!.split(' ').map((a) => a.replace(/^'(.*)'$/, '$1'));
}

describe('engram memories add --jsonl: the happy path', () => {
  it('one add per line, every reading; NDJSON per line; blank lines skipped; summary on stderr', async () => {
    const p = jsonl([
      JSON.stringify('Plain text line.'),
      '',
      JSON.stringify([{ role: 'user', content: 'I like rowing.' }]),
      JSON.stringify({ messages: [{ role: 'user', content: 'I sail too.' }] }),
      JSON.stringify([{ content: 'Pre-extracted.', topic: 'UserKnowledge' }]),
      JSON.stringify({ input: { string: { content: ['From a body.'] } }, user_id: 'someone-else' }),
    ]);
    const before = runsOnServer();
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'bulk-ok']);
    expect(r.code).toBe(0);
    const recs = records(r.stdout);
    expectAccounted(recs, [1, 3, 4, 5, 6]);
    expect(linesOf(recs, 'accepted')).toEqual([1, 3, 4, 5, 6]);
    expect(runsOnServer() - before).toBe(5);
    expect(r.stderr).toMatch(/5 adds — 5 accepted, 0 rejected, 0 outcome unknown, 0 not sent/);
    // each run is the line's content with the flags applied (flags override the body's scope)
    const byLine = new Map(recs.map((x) => [x.line, x.run_id!]));
    const get = async (line: number) => JSON.parse((await run(['runs', 'get', byLine.get(line)!, '--json'])).stdout);
    expect(await get(3)).toMatchObject({ input_type: 'conversation', user_id: 'bulk-ok' });
    expect(await get(5)).toMatchObject({ input_type: 'pre_extracted' });
    expect(await get(6)).toMatchObject({ input_type: 'string', user_id: 'bulk-ok' });
  });

  it('TTY: a progress spinner on stderr only; stdout stays NDJSON without escape bytes', async () => {
    const p = jsonl(textLines(3, 'tty'));
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'bulk-tty'], { tty: true, env: { ...env(), TERM: 'xterm' } });
    expect(r.code).toBe(0);
    expect(linesOf(records(r.stdout), 'accepted')).toEqual([1, 2, 3]);
    expect(r.stdoutBytes.includes(0x1b)).toBe(false);
    expect(r.stderr.replace(/\u001b\[[0-9;?]*[a-zA-Z]/g, '')).toMatch(/submitted 0\/3/);
    expect(r.stderr).toMatch(/3 accepted/);
  });

  it('reads standard input with -, and -q keeps stderr silent on success', async () => {
    const r = await run(['memories', 'add', '--jsonl', '-', '--user-id', 'bulk-stdin', '-q'], { stdin: textLines(3, 'stdin').join('\n') });
    expect(r.code).toBe(0);
    expect(linesOf(records(r.stdout), 'accepted')).toEqual([1, 2, 3]);
    expect(r.stderr).toBe('');
  });

  it('--wait waits on every accepted run with the wait engine; a failed run → 3', async () => {
    const p = jsonl([...textLines(3, 'wait'), JSON.stringify([{ role: 'assistant', content: 'Only the assistant speaks.' }])]);
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'bulk-wait', '--wait', '-o', 'ndjson']);
    expect(r.code).toBe(3);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const finals = lines.filter((l) => l.wait);
    expect(finals).toHaveLength(4);
    expect(finals.filter((f) => f.status === 'completed')).toHaveLength(3);
    expect(finals.filter((f) => f.status === 'failed')).toHaveLength(1);
    expect(r.stderr).toMatch(/failed: extraction produced no memories/);
  });
});

describe('engram memories add --jsonl: validation before sending', () => {
  it('every line is checked first; bad ones are named; exit 2 and nothing sent', async () => {
    const p = jsonl([
      JSON.stringify('fine'),
      JSON.stringify([{ role: 'robot', content: 'x' }]),
      'not json at all',
      '42',
      JSON.stringify(''),
      JSON.stringify('also fine'),
    ]);
    const before = emu.emu.stats().requests;
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'u']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/4 invalid lines in .*nothing was sent/);
    expect(r.stderr).toMatch(new RegExp(`${p}:2: \\[0\\]\\.role: expected one of user`));
    expect(r.stderr).toMatch(new RegExp(`${p}:3:1: invalid JSON: unexpected word "not"`));
    expect(r.stderr).toMatch(new RegExp(`${p}:4: expected a JSON string`));
    expect(r.stderr).toMatch(new RegExp(`${p}:5: empty text`));
    expect(emu.emu.stats().requests).toBe(before);
  });

  it('a byte that is not UTF-8 is reported with its line', async () => {
    const p = join(tmp, 'latin1.jsonl');
    writeFileSync(p, Buffer.concat([Buffer.from('"ok"\n"caf'), Buffer.from([0xe9]), Buffer.from('"\n')]));
    const r = await run(['memories', 'add', '--jsonl', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${p}:2: not valid UTF-8`));
  });

  it('flag conflicts are usage errors', async () => {
    const p = jsonl(textLines(2, 'flags'));
    const cases: Array<[string[], RegExp]> = [
      [['memories', 'add', 'text', '--jsonl', p], /cannot be combined with text arguments/],
      [['memories', 'add', '--jsonl', p, '--json'], /NDJSON/],
      [['memories', 'add', '--jsonl', p, '--concurrency', '0'], /--concurrency must be from 1 to 64/],
      [['memories', 'add', '--jsonl', p, '--from-line', '9'], /past the end/],
      [['memories', 'add', '--jsonl', p, '--skip-lines', 'x'], /invalid --skip-lines/],
      [['memories', 'add', 'x', '--from-line', '2'], /--from-line needs --jsonl/],
      [['memories', 'add', '--jsonl', '/nonexistent.jsonl'], /no such file/],
    ];
    for (const [argv, msg] of cases) await emu.refused(argv, msg, { env: env() });
  });
});

describe('engram memories add --jsonl: nothing lost, nothing sent twice', () => {
  it('429 stops submission; the resume command sends exactly the rest', async () => {
    const p = jsonl(textLines(12, 'limit'));
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories', after: 5, count: 1000, status: 429, body: { detail: 'monthly run limit reached' } });
    const before = runsOnServer();
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'bulk-429', '--concurrency', '3']);
    expect(r.code).toBe(6);
    const recs = records(r.stdout);
    expectAccounted(recs, Array.from({ length: 12 }, (_, i) => i + 1));
    const accepted = linesOf(recs, 'accepted');
    const notSent = linesOf(recs, 'not_sent');
    expect(accepted).toHaveLength(5);
    expect(notSent).toHaveLength(7);
    expect(runsOnServer() - before).toBe(5);
    expect(r.stderr).toMatch(/5 accepted, 0 rejected, 0 outcome unknown, 7 not sent/);
    expect(r.stderr).toMatch(/stopped: the API answered 429/);
    const resume = resumeArgv(r.stderr);
    expect(resume).toContain('--from-line');
    expect(resume[resume.indexOf('--from-line') + 1]).toBe(String(notSent[0]));

    await emu.control('/_emulator/faults', undefined, 'DELETE');
    const again = await run(resume);
    expect(again.code).toBe(0);
    const recs2 = records(again.stdout);
    expect(linesOf(recs2, 'accepted')).toEqual(notSent);
    expect(runsOnServer() - before).toBe(12);
  });

  it('a 429 that arrives after later lines were accepted: the resume skips those lines', async () => {
    const p = jsonl(textLines(6, 'interleave'));
    // line 2 is answered late (after lines 3-6 went through) with a 429
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories', after: 1, count: 1, delay_ms: 1000, status: 429, body: { detail: 'monthly run limit reached' } });
    const before = runsOnServer();
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'bulk-interleave', '--concurrency', '2']);
    expect(r.code).toBe(6);
    const recs = records(r.stdout);
    expectAccounted(recs, [1, 2, 3, 4, 5, 6]);
    expect(linesOf(recs, 'not_sent')).toEqual([2]);
    const resume = resumeArgv(r.stderr);
    expect(resume.join(' ')).toMatch(/--from-line 2 --skip-lines 3-6/);
    const again = await run(resume);
    expect(linesOf(records(again.stdout), 'accepted')).toEqual([2]);
    expect(runsOnServer() - before).toBe(6);
  });

  it('--from-line with --skip-lines sends exactly the selected lines', async () => {
    const p = jsonl(textLines(8, 'select'));
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'bulk-select', '--from-line', '3', '--skip-lines', '4,6-7']);
    expect(r.code).toBe(0);
    expect(linesOf(records(r.stdout), 'accepted')).toEqual([3, 5, 8]);
  });

  it('rejections, a dropped connection and a timeout: each line ends exactly once, unknowns are never re-sent', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => i + 1);
    const p = jsonl(textLines(30, 'faults'));
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories', after: 2, count: 1, status: 422, body: { detail: 'group "x" not found' } });
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories', after: 9, count: 1, action: 'drop' });
    const before = runsOnServer();
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'bulk-faults', '--concurrency', '4']);
    expect(r.code).toBe(7); // unknown outcome (service trouble) outranks the rejection
    const recs = records(r.stdout);
    expectAccounted(recs, lines);
    expect(linesOf(recs, 'rejected')).toHaveLength(1);
    expect(recs.find((x) => x.outcome === 'rejected')).toMatchObject({ http_status: 422, error: expect.stringMatching(/group "x" not found/) });
    const unknown = linesOf(recs, 'unknown');
    expect(unknown).toHaveLength(1);
    const accepted = linesOf(recs, 'accepted');
    const notSent = linesOf(recs, 'not_sent');
    expect(notSent.length).toBeGreaterThan(0);
    expect(runsOnServer() - before).toBe(accepted.length);
    expect(r.stderr).toMatch(/outcome unknown.*not re-sent/);
    expect(r.stderr).toMatch(/rejected.*group "x" not found/);

    // Resume: exactly the not-sent lines go out; the unknown and rejected lines are not re-sent.
    const resume = resumeArgv(r.stderr);
    const again = await run(resume);
    expect(again.code).toBe(0);
    expect(linesOf(records(again.stdout), 'accepted')).toEqual(notSent);
    expect(runsOnServer() - before).toBe(accepted.length + notSent.length);
  });

  it('a request that times out is "outcome unknown" and stops submission', async () => {
    const p = jsonl(textLines(6, 'timeout'));
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories', after: 1, count: 1, delay_ms: 120_000 });
    const before = runsOnServer();
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'bulk-timeout', '--concurrency', '1', '--request-timeout', '5s']);
    expect(r.code).toBe(7);
    const recs = records(r.stdout);
    expectAccounted(recs, [1, 2, 3, 4, 5, 6]);
    expect(linesOf(recs, 'accepted')).toEqual([1]);
    expect(recs.find((x) => x.line === 2)).toMatchObject({ outcome: 'unknown', error: expect.stringMatching(/timed out after 5s/) });
    expect(linesOf(recs, 'not_sent')).toEqual([3, 4, 5, 6]);
    expect(runsOnServer() - before).toBeLessThanOrEqual(2);
    expect(resumeArgv(r.stderr)).toEqual(expect.arrayContaining(['--from-line', '3']));
  });

  it('an unreachable service: nothing was sent, every line is "not sent", exit 7', async () => {
    const p = jsonl(textLines(4, 'down'));
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'u'], { env: { ...env(), ENGRAM_BASE_URL: await closedPortUrl() } });
    expect(r.code).toBe(7);
    expect(linesOf(records(r.stdout), 'not_sent')).toEqual([1, 2, 3, 4]);
    expect(r.stderr).toMatch(/--from-line 1/);
  });
});

describe('engram memories add: run history', () => {
  it('a history that cannot be written warns once and never fails the add', async () => {
    const blocker = join(tmp, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const p = jsonl(textLines(3, 'rohome'));
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'u-ro'], { env: { ...emu.env, XDG_STATE_HOME: blocker } });
    expect(r.code).toBe(0);
    expect(linesOf(records(r.stdout), 'accepted')).toEqual([1, 2, 3]);
    expect(r.stderr.match(/could not record run/g)).toHaveLength(1);
    const single = await run(['memories', 'add', 'One more.', '--user-id', 'u-ro'], { env: { ...emu.env, XDG_STATE_HOME: blocker } });
    expect(single.code).toBe(0);
    expect(single.stderr).toMatch(/could not record run/);
  });
});

describe('line lists', () => {
  it('parse and format round-trip', () => {
    expect([...parseLineList('3,7-9, 12', '--skip-lines')]).toEqual([3, 7, 8, 9, 12]);
    expect(formatLineList([12, 3, 7, 8, 9])).toBe('3,7-9,12');
    expect(() => parseLineList('5-2', '--skip-lines')).toThrow(/invalid range/);
  });
});
