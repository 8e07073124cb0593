import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, closedPortUrl, KEY } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const emu = useEmulator({ runTimeMs: 2000 });
const run = emu.run;
const example = (name: string) => join(__dirname, '..', '..', 'examples', name);
const tmp = mkdtempSync(join(tmpdir(), 'engram-add-'));
const file = (name: string, content: string | Buffer) => {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
};

async function committed(argv: string[], o: Parameters<typeof cli>[1] = {}) {
  const r = await run([...argv, '--wait', '--json'], o);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { status: string; input_type: string; user_id: string; committed_operations: { created: unknown[]; updated: unknown[] } };
}

describe('engram memories add: each input reading', () => {
  it('text arguments → string input, one entry each', async () => {
    const doc = await committed(['memories', 'add', 'Likes tea.', 'Hates coffee.', '--user-id', 'u-text']);
    expect(doc.input_type).toBe('string');
    expect(doc.committed_operations.created).toHaveLength(2);
  });

  it('--file conversation (OpenAI format with a tool call)', async () => {
    const doc = await committed(['memories', 'add', '--file', example('conversation.json'), '--user-id', 'u-conv']);
    expect(doc.input_type).toBe('conversation');
    expect(doc.user_id).toBe('u-conv');
    expect(doc.committed_operations.created.length).toBeGreaterThan(0);
  });

  it('--file pre-extracted items: one memory per item', async () => {
    const items = JSON.parse(readFileSync(example('pre-extracted.json'), 'utf8')) as unknown[];
    const doc = await committed(['memories', 'add', '--file', example('pre-extracted.json'), '--user-id', 'u-pre']);
    expect(doc.input_type).toBe('pre_extracted');
    expect(doc.committed_operations.created).toHaveLength(items.length);
  });

  it('--file with a full request body, flags override its scope', async () => {
    const p = file('body.json', JSON.stringify({ input: { string: { content: ['Body input.'] } }, user_id: 'from-file' }));
    const doc = await committed(['memories', 'add', '--file', p, '--user-id', 'from-flag']);
    expect(doc.user_id).toBe('from-flag');
  });

  it('--file plain text (notes)', async () => {
    const doc = await committed(['memories', 'add', '--file', example('notes.txt'), '--user-id', 'u-notes']);
    expect(doc.input_type).toBe('string');
    expect(doc.committed_operations.created.length).toBeGreaterThan(0);
  });

  it('--file - reads stdin; --topic makes lines pre-extracted items', async () => {
    const doc = await committed(['memories', 'add', '--file', '-', '--topic', 'UserKnowledge', '--user-id', 'u-stdin'], {
      stdin: 'Line one\nLine two\n\nLine three\n',
    });
    expect(doc.input_type).toBe('pre_extracted');
    expect(doc.committed_operations.created).toHaveLength(3);
  });

  it('the same content again is an update, not a duplicate', async () => {
    await committed(['memories', 'add', 'Rides a red bike.', '--user-id', 'u-dup']);
    const doc = await committed(['memories', 'add', 'Rides a red bike.', '--user-id', 'u-dup']);
    expect(doc.committed_operations.created).toHaveLength(0);
    expect(doc.committed_operations.updated).toHaveLength(1);
  });

  it('--conversation-id sets the property', async () => {
    const r = await run(['memories', 'add', 'Scoped.', '--user-id', 'u-c', '--conversation-id', 'conv-1', '--debug']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain(KEY);
  });
});

describe('engram memories add: output and waiting', () => {
  it('-q prints only the run id', async () => {
    const r = await run(['memories', 'add', 'Quiet.', '--user-id', 'u', '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(r.stderr).toBe('');
  });

  it('-q output pipes into runs wait -', async () => {
    const a = await run(['memories', 'add', 'Piped.', '--user-id', 'u', '-q']);
    const w = await run(['runs', 'wait', '-', '--json'], { stdin: a.stdout });
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout).run_id).toBe(a.stdout.trim());
  });

  it('without --wait: the run id and status, and a hint', async () => {
    const r = await run(['memories', 'add', 'Hello.', '--user-id', 'u']);
    expect(r.stdout).toMatch(/^run_id: [0-9a-f-]{36}\nstatus: running\n$/);
    expect(r.stderr).toMatch(/engram runs wait/);
  });

  it('--wait on a failing input exits 3 with the error', async () => {
    const r = await run(['memories', 'add', '--file', example('failing-conversation.json'), '--user-id', 'u', '--wait', '--json']);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc.status).toBe('failed');
    expect(doc.error).toMatch(/\S/);
  });

  it('--wait --timeout 2s on a slow run exits 124', async () => {
    const r = await run(['memories', 'add', 'Slow.', '--user-id', 'u', '--wait', '--timeout', '1s']);
    expect(r.code).toBe(124);
  });

  it('--wait tolerates a brief 404 just after the add', async () => {
    await emu.control('/_emulator/faults', { method: 'GET', path: '/v1/runs/', count: 2, action: 'respond', status: 404, body: { detail: 'run not found' } });
    const r = await run(['memories', 'add', 'Eventually consistent.', '--user-id', 'u', '--wait']);
    expect(r.code).toBe(0);
  });
});

describe('engram memories add: validation before sending (exit 2, nothing sent)', () => {
  const cases: Array<[string, string[], string | Buffer | undefined, RegExp]> = [
    ['no content', ['memories', 'add'], undefined, /nothing to add/],
    ['empty text', ['memories', 'add', '  '], undefined, /text argument 1 is empty/],
    ['missing file', ['memories', 'add', '--file', '/nonexistent/x.json'], undefined, /cannot read --file .*no such file/],
    ['bad role', ['memories', 'add', '--file', 'ROLE'], undefined, /\[1\]\.role: expected one of user, assistant, system, tool, developer/],
    ['syntax error', ['memories', 'add', '--file', 'SYNTAX'], undefined, /:2:\d+: invalid JSON/],
    ['empty stdin', ['memories', 'add', '--file', '-'], '', /standard input is empty/],
    ['latin-1 bytes', ['memories', 'add', '--file', '-'], Buffer.from([0x63, 0x61, 0x66, 0xe9]), /not valid UTF-8 at byte 3/],
    ['both text and file', ['memories', 'add', 'x', '--file', 'ROLE'], undefined, /text arguments or --file, not both/],
    ['bad type', ['memories', 'add', '--file', 'ROLE', '--type', 'xml'], undefined, /--type/],
    ['bad property', ['memories', 'add', 'x', '--property', 'novalue'], undefined, /--property key=value/],
    ['wait flag without --wait', ['memories', 'add', 'x', '--timeout', '5s'], undefined, /need --wait/],
    ['bad timeout', ['memories', 'add', 'x', '--wait', '--timeout', '5x'], undefined, /invalid duration for --timeout/],
    ['unknown flag', ['memories', 'add', 'x', '--usr-id', 'a'], undefined, /unknown option '--usr-id'/],
  ];
  it.each(cases)('%s', async (_name, argv, stdin, message) => {
    const fixed = argv.map((a) =>
      a === 'ROLE'
        ? file('role.json', JSON.stringify([{ role: 'user', content: 'x' }, { role: 'robot', content: 'y' }]))
        : a === 'SYNTAX'
          ? file('syntax.json', '[\n  {"role": "user" "content": "x"}\n]')
          : a,
    );
    const before = emu.emu.stats().requests;
    const r = await run(fixed, { stdin });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(emu.emu.stats().requests).toBe(before);
  });

  it('API rejections: unknown group → 6 with the server detail', async () => {
    const r = await run(['memories', 'add', 'x', '--user-id', 'u', '--group', 'no-such-group']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^error: 422 .*no-such-group/m);
  });

  it('refuses to send the key over plain http to a non-loopback host', async () => {
    const r = await run(['memories', 'add', 'x', '--base-url', 'http://example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to send the API key over plain http to example\.com/);
  });
});

describe('engram memories add: an add whose outcome is unknown', () => {
  it('a dropped connection after sending: exit 7, a warning not to resend blindly, sent once', async () => {
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories', count: 1, action: 'drop' });
    const before = emu.emu.stats().requests;
    const r = await run(['memories', 'add', 'Maybe stored.', '--user-id', 'u-unknown']);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^warning: the add may or may not have started a run \(no complete answer\); before sending it again, look for it with: engram memories list --user-id u-unknown$/m);
    // POST is never retried: exactly one request reached the emulator.
    expect(emu.emu.stats().requests - before).toBe(1);
  });

  it('a refused connection: nothing was sent, so no such warning', async () => {
    const r = await run(['memories', 'add', 'Not sent.', '--user-id', 'u'], { env: { ...emu.env, ENGRAM_BASE_URL: await closedPortUrl() } });
    expect(r.code).toBe(7);
    expect(r.stderr).not.toMatch(/may or may not/);
  });
});
