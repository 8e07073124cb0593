import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { CliResult } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

// A server (or whoever wrote the data it serves) must not be able to drive the user's
// terminal: every server string in human output is neutralised (control characters, ANSI
// and OSC escape sequences, C1 controls, bidi overrides become visible escapes), while JSON
// output stays exact, valid UTF-8.

const emu = useEmulator({ runTimeMs: 2000 });
const run = emu.run;

/** Emoji, CJK, RTL, controls, ANSI (SGR, clear screen), OSC (window title), C1 CSI, bidi override, a lone surrogate. */
const HOSTILE =
  'Fête 🎉👩‍👩‍👧 漢字かな한글 עברית العربية | bell\u0007 bs\u0008 nul\u0000 | \u001b[31mred\u001b[0m \u001b[2Jclear \u001b]0;pwned\u0007title | c1\u009b31m | \u202eevil\u202c | lone\ud83d | tab\there';
/** What must never reach a terminal raw (tab and newline are layout, and allowed). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** The SGR colour codes chalk writes, and the cursor/line codes ora writes on a TTY. */
// eslint-disable-next-line no-control-regex
const OURS = /\u001b\[[0-9;]*m|\u001b\[\?\d+[lh]|\u001b\[\d*[GKA]/g;

/** Human output: no raw control characters or escapes from the server; the visible parts survive. */
function inert(r: CliResult, stream: 'stdout' | 'stderr', opts: { colour?: boolean } = {}): string {
  const text = (stream === 'stdout' ? r.stdout : r.stderr).replace(opts.colour ? OURS : /$^/g, '');
  const bad = FORBIDDEN.exec(text);
  expect(bad, `${stream} holds U+${bad?.[0].codePointAt(0)!.toString(16).padStart(4, '0')} near ${JSON.stringify(text.slice(Math.max(0, (bad?.index ?? 0) - 20), (bad?.index ?? 0) + 20))}`).toBeNull();
  expect(isUtf8(stream === 'stdout' ? r.stdoutBytes : r.stderrBytes)).toBe(true);
  return text;
}

/** The visible parts of HOSTILE are still there, and each escape is shown escaped. */
function visible(text: string): void {
  for (const part of ['Fête', '🎉', '👩‍👩‍👧', '漢字かな한글', 'עברית', 'العربية']) expect(text).toContain(part);
  for (const shown of ['\\x1b[31mred', '\\x1b[2Jclear', '\\x1b]0;pwned\\x07title', '\\x9b31m', '\\u202eevil', 'bell\\x07']) expect(text).toContain(shown);
}

let n = 0;
async function hostileMemory(): Promise<{ user: string; id: string }> {
  const user = `hostile-${++n}`;
  await emu.addRaw({ input: { pre_extracted: { items: [{ content: HOSTILE, topic: 'UserKnowledge' }] } }, user_id: user });
  emu.clock.advance(2500);
  const list = JSON.parse((await run(['memories', 'list', '--user-id', user, '--json'])).stdout);
  return { user, id: list.memories[0].id };
}

async function hostileFailedRun(): Promise<string> {
  const id = await emu.addRaw({ input: { string: { content: ['Some text.'] } }, user_id: 'hostile-run' });
  await emu.control(`/_emulator/runs/${id}`, { status: 'failed', error: HOSTILE });
  return id;
}

describe('JSON output is exact and valid UTF-8', () => {
  it('memories list/get/search --json and -o ndjson give back the very string the server holds', async () => {
    const { user, id } = await hostileMemory();
    for (const argv of [
      ['memories', 'list', '--user-id', user, '--json'],
      ['memories', 'search', 'clear', '--user-id', user, '--json'],
      ['memories', 'get', id, '--user-id', user, '--json'],
      ['memories', 'list', '--user-id', user, '-o', 'ndjson'],
    ]) {
      const r = await run(argv, { tty: true });
      expect(r.code, r.stderr).toBe(0);
      expect(isUtf8(r.stdoutBytes)).toBe(true);
      const doc = JSON.parse(argv.includes('ndjson') ? r.stdout.trim().split('\n')[0]! : r.stdout);
      const m = doc.memories ? doc.memories[0] : doc;
      expect(m.content).toBe(HOSTILE);
      expect(r.stdoutBytes.includes(0x1b)).toBe(false); // JSON escapes ESC as \u001b
    }
  });

  it('runs get / runs wait --json keep a hostile error exactly', async () => {
    const id = await hostileFailedRun();
    const g = await run(['runs', 'get', id, '--json']);
    expect(JSON.parse(g.stdout).error).toBe(HOSTILE);
    const w = await run(['runs', 'wait', id, '--json']);
    expect(w.code).toBe(3);
    expect(JSON.parse(w.stdout).error).toBe(HOSTILE);
    expect(isUtf8(w.stdoutBytes)).toBe(true);
    inert(w, 'stderr'); // the "run failed" error line is human text
  });
});

describe('human output neutralises server strings in every renderer', () => {
  it('memories list / search / get: piped (TSV, key: value) and on a TTY (tables)', async () => {
    const { user, id } = await hostileMemory();
    for (const argv of [
      ['memories', 'list', '--user-id', user],
      ['memories', 'search', 'clear', '--user-id', user],
      ['memories', 'get', id, '--user-id', user],
    ]) {
      const piped = await run(argv);
      expect(piped.code, piped.stderr).toBe(0);
      visible(inert(piped, 'stdout'));
      inert(piped, 'stderr');
      for (const colour of ['never', 'always'] as const) {
        const tty = await run([...argv, '--color', colour], { tty: true, columns: 300 });
        expect(tty.code, tty.stderr).toBe(0);
        visible(inert(tty, 'stdout', { colour: colour === 'always' }).replace(/[│┌┐└┘├┤┬┴┼─]|\n\s*/g, ''));
        inert(tty, 'stderr', { colour: true });
      }
    }
  });

  it('runs get, runs wait, runs list: a hostile run error', async () => {
    const id = await hostileFailedRun();
    for (const argv of [['runs', 'get', id], ['runs', 'wait', id]]) {
      for (const tty of [false, true]) {
        const r = await run([...argv, '--color', tty ? 'always' : 'never'], { tty });
        expect([0, 3]).toContain(r.code);
        const out = inert(r, 'stdout', { colour: tty });
        const err = inert(r, 'stderr', { colour: tty });
        visible(argv[1] === 'get' ? out : err); // wait reports the error text on stderr
      }
    }
  });

  it('a hostile unknown status and user id: runs get, runs wait (warning, progress lines, spinner), events', async () => {
    const id = await emu.addRaw({ input: { string: { content: ['Text.'] } }, user_id: `evil\u001b]0;user\u0007` });
    await emu.control(`/_emulator/runs/${id}`, { status: `paused\u001b[2J\u009b1m` });
    const get = await run(['runs', 'get', id]);
    const out = inert(get, 'stdout');
    expect(out).toContain('paused\\x1b[2J\\x9b1m');
    expect(out).toContain('evil\\x1b]0;user\\x07');
    inert(get, 'stderr');
    for (const tty of [false, true]) {
      const w = await run(['runs', 'wait', id, '--timeout', '3s', '--color', tty ? 'always' : 'never'], { tty });
      expect(w.code).toBe(124);
      const err = inert(w, 'stderr', { colour: tty });
      expect(err).toMatch(/unknown run status "paused\\\\u001b\[2J\\x9b1m"|unknown run status "paused\\u001b\[2J\\x9b1m"/);
      inert(w, 'stdout', { colour: tty });
    }
    const ev = await run(['runs', 'wait', id, '--timeout', '1s', '--events']);
    expect(JSON.parse(ev.stdout.split('\n')[0]!).status).toBe(`paused\u001b[2J\u009b1m`);
    inert(ev, 'stderr');
  });

  it('runs list: hostile user ids and statuses in the history table', async () => {
    const add = await run(['memories', 'add', 'Listed.', '--user-id', `u\u001b]0;t\u0007`, '-q']);
    expect(add.code, add.stderr).toBe(0);
    const id = add.stdout.trim();
    await emu.control(`/_emulator/runs/${id}`, { status: `odd\u001b[2J\u009b` });
    for (const tty of [false, true]) {
      const r = await run(['runs', 'list', '--color', tty ? 'always' : 'never'], { tty, columns: 300 });
      expect(r.code, r.stderr).toBe(0);
      const out = inert(r, 'stdout', { colour: tty });
      expect(out).toContain('odd\\x1b[2J\\x9b');
      expect(out).toContain('u\\x1b]0;t\\x07');
      inert(r, 'stderr', { colour: tty });
    }
  });

  it('timestamps from the server: runs get, memories get and list, piped and on a TTY', async () => {
    const stamp = '2026-12-03T10:00:00Z\u001b[2J\u0007';
    const runDoc = { run_id: '019e8742-5a4d-7698-88a5-f714efe876d1', status: 'completed', created_at: stamp, updated_at: stamp, committed_operations: { created: [], updated: [], deleted: [] } };
    const memory = { id: '381f964c-5d99-466a-8487-bf9c248fed33', content: 'Tea.', topic: 'UserKnowledge', group: 'default', created_at: stamp, updated_at: stamp };
    const cases: Array<[string[], object]> = [
      [['runs', 'get', runDoc.run_id], { method: 'GET', path: '/v1/runs/', status: 200, body: runDoc }],
      [['memories', 'get', memory.id], { method: 'GET', path: '/v1/memories/', status: 200, body: memory }],
      [['memories', 'list'], { method: 'POST', path: '/v1/memories/list', status: 200, body: { memories: [memory], total: 1 } }],
    ];
    for (const [argv, fault] of cases) {
      for (const tty of [false, true]) {
        await emu.control('/_emulator/faults', fault);
        const r = await run([...argv, '--color', tty ? 'always' : 'never'], { tty, columns: 300 });
        expect(r.code, r.stderr).toBe(0);
        expect(inert(r, 'stdout', { colour: tty }), argv.join(' ')).toContain('\\x1b[2J\\x07');
      }
    }
  });

  it('groups list: hostile group and topic names from the server', async () => {
    const groups = {
      groups: [
        {
          group_id: 'g\u001b[2J',
          name: `grp\u001b]0;x\u0007`,
          topics: [{ topic_name: 'T\u009b31m', description: HOSTILE, is_bounded: false, scoping: { user_scoped: true, scope_properties: ['p\u202e'] } }],
        },
      ],
    };
    for (const tty of [false, true]) {
      await emu.control('/_emulator/faults', { method: 'GET', path: '/v1/groups', status: 200, body: groups });
      const r = await run(['groups', 'list', '--color', tty ? 'always' : 'never'], { tty, columns: 400 });
      expect(r.code, r.stderr).toBe(0);
      const out = inert(r, 'stdout', { colour: tty });
      expect(out).toContain('grp\\x1b]0;x\\x07');
    }
  });
});

describe('error messages that echo server text are neutralised', () => {
  const problem = {
    detail: `bad thing: ${HOSTILE}`,
    errors: [{ location: 'body.\u001b]0;loc\u0007', message: 'msg \u009b2J \u001b[1A' }],
  };
  const cases: Array<[string, object]> = [
    ['a problem document (detail and errors[])', { status: 422, body: problem, content_type: 'application/problem+json' }],
    ['an HTML error page (its title)', { status: 404, body: `<!DOCTYPE html><html><head><title>\u001b[2J Not \u009b Found \u001b]0;t\u0007</title></head><body>x</body></html>`, content_type: 'text/html' }],
    ['a plain-text error', { status: 409, body: `conflict \u001b[2J\u0007 here\nsecond line`, content_type: 'text/plain' }],
    ['a JSON "message" field', { status: 400, body: { message: '\u001b]52;c;aGVsbG8=\u0007clipboard' } }],
  ];
  it.each(cases)('runs get: %s', async (_name, fault) => {
    await emu.control('/_emulator/faults', { method: 'GET', path: '/v1/runs/', ...fault });
    const r = await run(['runs', 'get', '019e8742-5a4d-7698-88a5-f714efe876d1', '--color', 'always'], { tty: true });
    expect([5, 6]).toContain(r.code);
    const err = inert(r, 'stderr', { colour: true });
    expect(err).toMatch(/^error: /);
    expect(err).toMatch(/\\x1b/);
  });

  it('several ids, each with its own hostile error; and the debug trace of hostile headers', async () => {
    const ids = ['019e8742-5a4d-7698-88a5-f714efe876d1', '019e8742-5a4d-7698-88a5-f714efe876d2'];
    await emu.control('/_emulator/faults', { method: 'GET', path: '/v1/runs/', count: 2, status: 422, body: problem, headers: { 'X-Evil': 'a\u009b2Jb' } });
    const r = await run(['runs', 'get', ...ids, '--debug']);
    expect(r.code).toBe(6);
    const err = inert(r, 'stderr');
    expect(err).toMatch(/x-evil: a.?\\x9b2Jb/); // the header arrives as Latin-1 bytes
    expect(err.match(/^error: run /gm)).toHaveLength(2);
  });

  it('runs wait: retry announcements quote a hostile 503 detail, neutralised', async () => {
    const id = await emu.addRaw({ input: { string: { content: ['Fine.'] } }, user_id: 'u' });
    await emu.control('/_emulator/faults', { method: 'GET', path: '/v1/runs/', count: 2, status: 503, body: { detail: `down ${HOSTILE}` } });
    for (const tty of [false]) {
      const r = await run(['runs', 'wait', id], { tty });
      expect(r.code).toBe(0);
      const err = inert(r, 'stderr');
      expect(err).toMatch(/poll failed: 503 down Fête/);
    }
  });

  it('memories delete of several ids, memories add rejected, export failing: all neutralised', async () => {
    await emu.control('/_emulator/faults', { method: 'DELETE', path: '/v1/memories/', count: 2, status: 422, body: problem });
    const del = await run(['memories', 'delete', 'a', 'b', '--yes', '--user-id', 'u']);
    expect(del.code).toBe(6);
    inert(del, 'stderr');
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories', status: 400, body: problem });
    const add = await run(['memories', 'add', 'x', '--user-id', 'u']);
    expect(add.code).toBe(6);
    expect(inert(add, 'stderr')).toContain('body.\\x1b]0;loc\\x07: msg \\x9b2J \\x1b[1A');
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories/list', status: 422, body: problem });
    const exp = await run(['memories', 'export', '--user-id', 'u']);
    expect(exp.code).toBe(6);
    inert(exp, 'stderr');
  });

  it('auth status: a hostile 401 detail', async () => {
    await emu.control('/_emulator/faults', { path: '/v1/auth/verify', status: 401, body: problem });
    const r = await run(['auth', 'status']);
    expect(r.code).toBe(4);
    inert(r, 'stdout');
    inert(r, 'stderr');
  });

  it('memories add -q and the hint print a hostile run id from the server escaped', async () => {
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories', count: 2, status: 200, body: { run_id: 'r\u001b[2J1', status: 'running' } });
    const q = await run(['memories', 'add', 'x', '--user-id', 'u', '-q']);
    expect(q.code).toBe(0);
    expect(inert(q, 'stdout')).toBe('r\\x1b[2J1\n');
    const h = await run(['memories', 'add', 'x', '--user-id', 'u']);
    inert(h, 'stdout');
    inert(h, 'stderr');
  });
});
