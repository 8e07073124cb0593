import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

// Bad input, end to end through the CLI: one clear line on stderr, exit 2, nothing on stdout,
// and not a single request reaches the emulator (its request counter does not move).

const emu = useEmulator({ runTimeMs: 2000 });
const run = emu.run;
const tmp = mkdtempSync(join(tmpdir(), 'engram-bad-input-'));
let seq = 0;
const file = (content: string | Buffer, name = `f${++seq}.json`) => {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
};
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const refused = emu.refused;

const conv = (messages: unknown[]) => JSON.stringify({ messages }, null, 2);
const user = (content: unknown) => ({ role: 'user', content });

describe('JSON files: syntax errors name the file, line and column', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['missing comma', '{\n  "messages": [\n    {"role": "user" "content": "x"}\n  ]\n}', /:3:21: invalid JSON: expected ',' or '}', got '"'/],
    ['double comma', '{\n  "messages": [\n    {"role": "user",, "content": "x"}\n  ]\n}', /:3:21: invalid JSON: expected a property name in double quotes, got ','/],
    // V8's own message for these has no position at all ("Unexpected token …, "…" is not valid JSON").
    ['bare word', '{"messages": [\n  {"role": "user", "content": tru}\n]}', /:2:31: invalid JSON: unexpected word "tru"/],
    ['unexpected token', '[\n  {"role": "user", "content": }\n]', /:2:31: invalid JSON: unexpected '}'/],
    ['trailing comma', '[\n  {"role": "user", "content": "x"},\n]', /:3:1: invalid JSON: a trailing comma before ']'/],
    ['truncated', '[\n  {"role": "user", "content": "x"}', /:2:35: invalid JSON: unexpected end of input \(is the file truncated\?\)/],
    ['single quotes', "[{'role': 'user'}]", /:1:3: invalid JSON: expected a property name in double quotes, got "'" \(JSON has no single quotes\)/],
    ['a comment', '[\n  // my chat\n  {"role": "user", "content": "x"}\n]', /:2:3: invalid JSON: unexpected '\/' \(JSON has no comments\)/],
    ['raw control character', '[{"role": "user", "content": "a\u0001b"}]', /:1:32: invalid JSON: character U\+0001 inside a string/],
    ['bad escape', '[{"role": "user", "content": "C:\\docs"}]', /:1:33: invalid JSON: invalid escape \\d in a string/],
    ['garbage after the value', '[{"role": "user", "content": "x"}] ]', /:1:36: invalid JSON: unexpected ']' after the end of the JSON value/],
    ['leading zero', '{"input": {"string": {"content": ["x"]}}, "n": 01}', /:1:48: invalid JSON: an invalid number \(no leading zeros\)/],
  ];
  it.each(cases)('%s', async (_name, text, message) => {
    const p = file(text);
    const err = await refused(['memories', 'add', '--file', p, '--user-id', 'u'], new RegExp(`^error: ${esc(p)}${message.source}`));
    expect(err).toMatch(/fix the JSON, or pass --type string/);
    expect(err).not.toMatch(/is not valid JSON/); // V8's message (which quotes the file) is not shown
  });
});

describe('JSON files: wrong shapes name the JSON path and what was expected', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['bad role (object form)', conv([user('a'), user('b'), user('c'), { role: 'robot', content: 'd' }]), /: messages\[3\]\.role: expected one of user, assistant, system, tool, developer, got "robot"$/m],
    ['bad role (array form)', JSON.stringify([user('a'), { role: 'Human', content: 'b' }]), /: \[1\]\.role: expected one of user, assistant, system, tool, developer, got "Human"$/m],
    ['missing role', JSON.stringify({ messages: [{ content: 'x' }] }), /: messages\[0\]\.role: expected one of user, assistant, system, tool, developer$/m],
    ['content is a number', conv([user(5)]), /: messages\[0\]\.content: expected a string, got number 5$/m],
    ['empty content', conv([user('hi'), user('   ')]), /: messages\[1\]\.content: expected non-empty text, got "   "$/m],
    ['no messages', JSON.stringify({ messages: [] }), /: messages: expected at least one message$/m],
    ['messages not an array', JSON.stringify({ messages: { role: 'user' } }), /: messages: expected an array of messages, got an object$/m],
    ['tool calls on a user turn', conv([{ role: 'user', content: 'x', tool_calls: [] }]), /: messages\[0\]\.tool_calls: expected tool calls only on assistant messages$/m],
    ['bad timestamp', conv([{ role: 'user', content: 'x', created_at: 'yesterday' }]), /: messages\[0\]\.created_at: expected an RFC 3339 timestamp like 2026-12-03T10:00:00Z, got "yesterday"$/m],
    ['item without topic', JSON.stringify({ items: [{ content: 'x', topic: 'UserKnowledge' }, { content: 'y' }] }), /: items\[1\]\.topic: expected a string$/m],
    ['item with empty content', JSON.stringify([{ content: '', topic: 'UserKnowledge' }]), /: \[0\]\.content: expected non-empty text$/m],
    ['two input kinds', JSON.stringify({ input: { string: { content: ['a'] }, pre_extracted: { items: [] } } }), /: input: expected exactly one of string, conversation, pre_extracted \(found 2\)$/m],
    ['property value not a string', JSON.stringify({ input: { string: { content: ['a'] } }, properties: { conversation_id: 7 } }), /: properties\.conversation_id: expected a string, got number 7$/m],
    ['user_id not a string', JSON.stringify({ input: { string: { content: ['a'] } }, user_id: ['alice'] }), /: user_id: expected a string, got an array$/m],
    ['an unknown object', JSON.stringify({ hello: 'world' }), /: \(top level\): expected a conversation \{"messages": \[…\]\}, pre-extracted \{"items": \[…\]\} or a request body \{"input": …\}, got an object$/m],
    ['an array of numbers', '[1, 2, 3]', /: \[0\]: expected a message \(with "role"\), an item \(with "content" and "topic"\) or a string, got number 1$/m],
    ['nested too deep', JSON.stringify({ messages: [user('x')], metadata: { a: JSON.parse('['.repeat(150) + ']'.repeat(150)) } }), /: metadata\.a[[\]0]+…: nested more than 100 levels deep; flatten the data$/m],
    ['--type conversation on plain text', 'just some notes', /: --type conversation needs JSON, but the file is plain text/],
  ];
  it.each(cases)('%s', async (name, text, message) => {
    const p = file(text);
    const argv = ['memories', 'add', '--file', p, '--user-id', 'u'];
    if (name.startsWith('--type')) argv.push('--type', 'conversation');
    const err = await refused(argv, message);
    expect(err.startsWith(`error: ${p}`)).toBe(true);
  });
});

describe('empty input, BOM, CRLF, encodings', () => {
  it.each([
    ['an empty file', () => ['--file', file('')], undefined, /is empty; give some content to add/],
    ['a file of blank lines', () => ['--file', file(' \r\n\n\t\n')], undefined, /is empty/],
    ['empty stdin', () => ['--file', '-'], '', /^error: standard input is empty/],
    ['stdin of a lone BOM', () => ['--file', '-'], '\ufeff', /^error: standard input is empty/],
    ['Latin-1 bytes in a file', () => ['--file', file(Buffer.concat([Buffer.from('{"messages": [{"role": "user", "content": "caf'), Buffer.from([0xe9]), Buffer.from('"}]}')]))], undefined, /: not valid UTF-8 at byte 46 \(0xe9\); convert it first, e\.g\. iconv -f latin1 -t utf-8$/m],
    ['Latin-1 bytes on stdin', () => ['--file', '-'], Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), /^error: standard input: not valid UTF-8 at byte 3 \(0xe9\)/],
    ['a UTF-16 file', () => ['--file', file(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[]', 'utf16le')]))], undefined, /not valid UTF-8 at byte 0 \(0xff\); it looks like UTF-16; convert it first, e\.g\. iconv -f utf-16 -t utf-8/],
    ['a truncated UTF-8 sequence at the end', () => ['--file', file(Buffer.from([0x68, 0x69, 0xe2, 0x82]))], undefined, /not valid UTF-8 at byte 2 \(0xe2\)/],
    ['a directory', () => ['--file', (mkdirSync(join(tmp, 'dir'), { recursive: true }), join(tmp, 'dir'))], undefined, /cannot read --file .*dir: it is a directory/],
    ['a missing file', () => ['--file', join(tmp, 'nope.json')], undefined, /cannot read --file .*nope\.json: no such file/],
  ] as Array<[string, () => string[], string | Buffer | undefined, RegExp]>)('%s', async (_name, args, stdin, message) => {
    await refused(['memories', 'add', ...args(), '--user-id', 'u'], message, { stdin });
  });

  it('endless devices: --file /dev/zero stops at 25 MiB; --api-key-file /dev/zero (or -) at 64 KiB', async () => {
    await refused(['memories', 'add', '--file', '/dev/zero', '--user-id', 'u'], /^error: --file \/dev\/zero is larger than 25 MiB/);
    await refused(['runs', 'get', 'x', '--api-key-file', '/dev/zero'], /^error: --api-key-file \/dev\/zero is larger than 64 KiB; it should hold only the key$/m);
    // The same bound for a key piped on standard input (it was the 25 MiB of content input).
    await refused(['runs', 'get', 'x', '--api-key-file', '-'], /^error: --api-key-file - is larger than 64 KiB; it should hold only the key$/m, { stdin: 'k'.repeat(64 * 1024 + 1) });
    await refused(['runs', 'get', 'x', '--api-key-file', join(tmp, 'no-such-key')], /^error: cannot read --api-key-file .*no-such-key: no such file$/m);
    await refused(['runs', 'get', 'x', '--api-key-file', file('eng_abc def\n', 'key.txt')], /the API key from --api-key-file .*key\.txt contains whitespace or control characters/);
  });

  it('a BOM does not shift the reported column, and a BOM + JSON file is read as JSON', async () => {
    const bad = file('\ufeff[{"role": "user", "content": }]');
    await refused(['memories', 'add', '--file', bad], new RegExp(`^error: ${esc(bad)}:1:30: invalid JSON: unexpected '}'`));
    const good = file('\ufeff' + JSON.stringify([user('I sail on weekends.')]));
    const r = await run(['memories', 'add', '--file', good, '--user-id', 'bom', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const run1 = JSON.parse((await run(['runs', 'get', JSON.parse(r.stdout).run_id, '--json'])).stdout);
    expect(run1.input_type).toBe('conversation');
  });

  it('CRLF line ends: syntax errors keep their line and column; content is exact', async () => {
    const bad = file('[\r\n  {"role": "user", "content": "x"}\r\n  {"role": "user"}\r\n]');
    await refused(['memories', 'add', '--file', bad], /:3:3: invalid JSON: expected ',' or ']', got '\{'/);
    const good = file(`[\r\n  {"role": "user", "content": "I live in Porto. I cycle."}\r\n]\r\n`);
    const r = await run(['memories', 'add', '--file', good, '--user-id', 'crlf', '--wait', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).committed_operations.created).toHaveLength(2);
    const list = JSON.parse((await run(['memories', 'list', '--user-id', 'crlf', '--json'])).stdout);
    expect(list.memories.map((m: { content: string }) => m.content).sort()).toEqual(['I cycle.', 'I live in Porto.']);
  });

  it('CRLF plain text is sent with LF line ends; --topic splits CRLF lines', async () => {
    const r = await run(['memories', 'add', '--file', file('Likes tea.\r\nHates coffee.\r\n', 'n.txt'), '--user-id', 'crlf-txt', '--wait', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const t = await run(['memories', 'add', '--file', '-', '--topic', 'UserKnowledge', '--user-id', 'crlf-topic', '--wait', '--json'], { stdin: 'One\r\nTwo\r\n' });
    expect(JSON.parse(t.stdout).committed_operations.created).toHaveLength(2);
    const list = JSON.parse((await run(['memories', 'list', '--user-id', 'crlf-topic', '--json'])).stdout);
    expect(list.memories.map((m: { content: string }) => m.content).sort()).toEqual(['One', 'Two']);
  });

  it('a 50 MB file is refused by its size, before it is read', async () => {
    const { truncateSync, openSync, closeSync } = await import('node:fs');
    const p = join(tmp, 'big.json');
    closeSync(openSync(p, 'w'));
    truncateSync(p, 50 * 1024 * 1024); // sparse: nothing to read if we tried, but the size is real
    await refused(['memories', 'add', '--file', p, '--user-id', 'u'], /--file .*big\.json is 50\.0 MiB, over the 25 MiB limit; split it/);
  });

  it('50 MB on standard input is refused after the limit, without reading the rest', async () => {
    const { Readable } = await import('node:stream');
    let produced = 0;
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const stdin = new Readable({
      read() {
        if (produced >= 50) return void this.push(null);
        produced++;
        this.push(chunk);
      },
    });
    const before = emu.emu.stats().requests;
    const { testIO } = await import('../helpers/io.js');
    const { runCli } = await import('../../src/cli/run.js');
    const { seededRandom } = await import('../../src/core/clock.js');
    const io = testIO({ env: emu.env });
    io.stdin = stdin;
    const code = await runCli(['memories', 'add', '--file', '-', '--user-id', 'u'], { io, clock: emu.clock, random: seededRandom(1) });
    expect(code).toBe(2);
    expect(io.err.text).toMatch(/^error: --file - is larger than 25 MiB; split it into several adds/);
    expect(produced).toBeLessThanOrEqual(27); // it stopped reading at the limit
    expect(emu.emu.stats().requests).toBe(before);
  });
});

describe('ids: the server decides their shape; the CLI only keeps them one safe path segment', () => {
  const ID_COMMANDS: Array<[string, (id: string) => string[]]> = [
    ['runs get', (id) => ['runs', 'get', id]],
    ['runs wait', (id) => ['runs', 'wait', id]],
    ['memories get', (id) => ['memories', 'get', id, '--user-id', 'u']],
    ['memories delete', (id) => ['memories', 'delete', id, '--user-id', 'u', '--yes']],
  ];
  const route = (cmd: string) => (cmd.startsWith('runs') ? '/v1/runs/' : '/v1/memories/');

  const BAD: Array<[string, string, RegExp]> = [
    ['empty', '', /empty (run|memory) id/],
    ['dot', '.', /invalid (run|memory) id "\."/],
    ['dot-dot', '..', /invalid (run|memory) id "\.\."/],
    ['a space inside', 'abc def', /contains whitespace or control characters/],
    ['a leading space', ' abc', /contains whitespace or control characters/],
    ['a tab', 'abc\tdef', /contains whitespace or control characters/],
    ['a newline', 'abc\n', /contains whitespace or control characters/],
    ['a NUL', 'a\u0000b', /contains whitespace or control characters/],
    ['an escape sequence', '\u001b[2Jx', /contains whitespace or control characters/],
    ['a C1 control', 'a\u009bb', /contains whitespace or control characters/],
    ['a line separator', 'a\u2028b', /contains whitespace or control characters/],
    ['a lone surrogate', 'a\ud800b', /lone UTF-16 surrogate/],
  ];
  for (const [cmd, argv] of ID_COMMANDS) {
    it.each(BAD)(`${cmd}: %s id is a usage error`, async (_name, id, message) => {
      const err = await refused(argv(id), message);
      expect(err).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/); // the id is shown escaped
    });

    it.each([
      ['a slash', 'a/b', 'a%2Fb'],
      ['a question mark', 'a?b=1', 'a%3Fb%3D1'],
      ['a hash', 'a#b', 'a%23b'],
      ['a percent', '100%', '100%25'],
      ['an encoded slash', 'a%2Fb', 'a%252Fb'],
      ['a path climb', '../../health', '..%2F..%2Fhealth'],
      ['non-ASCII', 'ünï✓', '%C3%BCn%C3%AF%E2%9C%93'],
    ])(`${cmd}: an id with %s is one percent-encoded path segment`, async (_name, id, encoded) => {
      // A fault on exactly the encoded path proves where the request went.
      const path = route(cmd) + encoded;
      await emu.control('/_emulator/faults', { path, status: 418, body: { detail: 'teapot: routed correctly' } });
      const r = await run([...argv(id), '--debug', ...(cmd === 'runs wait' ? ['--timeout', '1s'] : [])]);
      expect(r.stderr).toContain(`${emu.emu.url}${path}`);
      expect(r.stderr).toMatch(/418|teapot/);
      expect(r.code).toBe(6);
    });
  }

  it('runs wait -: a bad id on stdin is a usage error naming it', async () => {
    await refused(['runs', 'wait', '-'], /invalid run id "a b": it contains whitespace/, { stdin: 'good-id\na b\n' });
    await refused(['runs', 'get', '-'], /no run ids on standard input/, { stdin: '\n# just a comment\n' });
  });
});

describe('flags: each mistake is a precise usage error', () => {
  const cases: Array<[string[], RegExp]> = [
    [['runs', 'get', 'x', '--bogus'], /^error: unknown option '--bogus'$/m],
    [['runs', 'get', 'x', '--exit-statu'], /^error: unknown option '--exit-statu'; did you mean --exit-status\?\n$/],
    [['runs', 'get'], /^error: missing required argument 'run-id'$/m],
    [['memories', 'get', 'a', 'b'], /^error: too many arguments for 'get'\. Expected 1 argument but got 2\.$/m],
    [['runs', 'get', 'x', '--json', '-o', 'table'], /^error: --json conflicts with --output table; give one of them$/m],
    [['groups', 'list', '--json', '-o', 'ndjson'], /^error: --json conflicts with --output ndjson/m],
    [['runs', 'get', 'x', '-o', 'yaml'], /^error: invalid --output "yaml"; use one of: table, json, ndjson$/m],
    [['runs', 'get', 'x', '-o'], /^error: option '-o, --output <format>' argument missing$/m],
    [['runs', 'get', 'x', '--color', 'sometimes'], /^error: invalid --color "sometimes"; use one of: auto, always, never$/m],
    [['runs', 'wait', 'x', '--timeout', '5x'], /^error: invalid duration for --timeout: "5x"; use a number with a unit: 500ms, 30s, 5m, 1h \(or bare seconds\)$/m],
    [['runs', 'wait', 'x', '--timeout', '-5'], /^error: invalid duration for --timeout: "-5"/m],
    [['runs', 'wait', 'x', '--timeout', '1 m'], /^error: invalid duration for --timeout: "1 m"/m],
    [['runs', 'wait', 'x', '--timeout', '99999h'], /^error: duration for --timeout is too long: "99999h"; use at most 8760h$/m],
    [['runs', 'wait', 'x', '--interval', '10ms'], /^error: --interval must be at least 100ms/m],
    [['runs', 'wait', 'x', '--until', 'later'], /^error: option '--until <status>' argument 'later' is invalid\. Allowed choices are completed, in_buffer\.$/m],
    [['runs', 'wait', 'x', '--concurrency', '0'], /^error: --concurrency must be from 1 to 64, got 0$/m],
    [['runs', 'get', 'x', '--request-timeout', '0'], /^error: --request-timeout must be greater than 0$/m],
    [['runs', 'get', 'x', '--request-timeout', 'soon'], /^error: invalid duration for --request-timeout: "soon"/m],
    [['runs', 'list', '--limit', '0'], /^error: --limit must be from 1 to \d+, got 0$/m],
    [['memories', 'search', 'q', '--limit', '0'], /^error: --limit must be from 1 to 100, got 0$/m],
    [['memories', 'search', 'q', '--limit', '101'], /^error: --limit must be from 1 to 100, got 101$/m],
    [['memories', 'search', 'q', '--limit', '1.5'], /^error: --limit must be a whole number from 1 to 100, got "1\.5"$/m],
    [['memories', 'list', '--limit', '1e2'], /^error: --limit must be a whole number from 1 to 100, got "1e2"$/m],
    [['memories', 'search', 'q', '--type', 'fuzzy'], /^error: option '--type <type>' argument 'fuzzy' is invalid\. Allowed choices are hybrid, vector, bm25, fetch\.$/m],
    [['memories', 'add', 'x', '--property', 'novalue'], /^error: invalid --property "novalue"; use --property key=value$/m],
    [['memories', 'add', 'x', '--property', 'k=1', '--property', 'k=2'], /^error: --property k given twice with different values$/m],
    [['memories', 'add', 'x', '--timeout', '5s'], /^error: --timeout, --interval, --until, --fail-fast and --events need --wait$/m],
    [['memories', 'add', 'x', '--wait', '--events', '--json'], /^error: --events conflicts with --json and --output/m],
    [['runs', 'get', 'x', '--base-url', 'ftp://host'], /^error: base URL must be http:\/\/ or https:\/\/, got "ftp:\/\/host"$/m],
    [['runs', 'get', 'x', '--base-url', 'not a url'], /^error: invalid base URL "not a url"/m],
    [['--profile', 'a b', 'runs', 'get', 'x'], /^error: invalid profile name "a b" \(from --profile\)/m],
    [['emulator', '--port', '70000'], /^error: --port must be from 0 to 65535, got 70000$/m],
    [['emulator', '--run-time', 'fast'], /^error: invalid duration for --run-time: "fast"/m],
    [['completion', 'powershell'], /powershell/],
  ];
  it.each(cases)('%j', async (argv, message) => {
    expect(await refused(argv, message)).toMatch(/^error: /);
  });
});

describe('JSONL (bulk add): every bad line named with its line and column, nothing sent', () => {
  it('syntax errors: file:line:column and why, for each bad line', async () => {
    const p = file(['"The user likes tea."', '{"messages": [{"role": "user", "content": tru}]}', '"ok"', "{'input': 1}", '[1,]'].join('\n') + '\n', 'bulk.jsonl');
    const before = emu.emu.stats().requests;
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'u']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: 3 invalid lines in .*bulk\.jsonl; nothing was sent/m);
    expect(r.stderr).toContain(`${p}:2:43: invalid JSON: unexpected word "tru"`);
    expect(r.stderr).toContain(`${p}:4:2: invalid JSON: expected a property name in double quotes, got "'"`);
    expect(r.stderr).toContain(`${p}:5:4: invalid JSON: a trailing comma before ']'`);
    expect(r.stderr).not.toMatch(/is not valid JSON/);
    expect(emu.emu.stats().requests).toBe(before);
  });

  it('a shape error on one line names the line and the JSON path', async () => {
    const p = file(['"fine"', JSON.stringify([{ role: 'robot', content: 'x' }])].join('\n'), 'shape.jsonl');
    const before = emu.emu.stats().requests;
    const r = await run(['memories', 'add', '--jsonl', p, '--user-id', 'u']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${esc(p)}:2: \\[0\\]\\.role: expected one of user, assistant, system, tool, developer, got "robot"`, 'm'));
    expect(emu.emu.stats().requests).toBe(before);
  });
});
