import { describe, expect, it } from 'vitest';
import { useEmulator } from '../helpers/emulator.js';

const emu = useEmulator({ runTimeMs: 2000 });
const run = emu.run;
const ESC = /\u001b/;
const plain = (t: string) => t.replace(/\u001b\[[0-9;]*m/g, '');
let n = 0;
const uniqueUser = (p: string) => `${p}-${++n}`;

/** Add pre-extracted items for a user and let the run commit; returns the memories as listed. */
async function seed(user: string, contents: string[], topic = 'UserKnowledge', extra: Record<string, unknown> = {}) {
  await emu.addRaw({ input: { pre_extracted: { items: contents.map((content) => ({ content, topic })) } }, user_id: user, ...extra });
  emu.clock.advance(2500);
  const r = await run(['memories', 'list', '--user-id', user, '--limit', '100', '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).memories as Array<{ id: string; content: string; topic: string }>;
}

describe('engram memories search', () => {
  it('piped: tab-separated score, topic, content, id, best first, no escape bytes', async () => {
    const user = uniqueUser('search');
    await seed(user, ['The user drinks green tea every morning.', 'The user rides a red bicycle.', 'The user plays the piano.']);
    const r = await run(['memories', 'search', 'green tea', '--user-id', user, '--type', 'bm25']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toHaveLength(4);
    expect(lines[0]![2]).toBe('The user drinks green tea every morning.');
    expect(Number(lines[0]![0])).toBeGreaterThan(0);
    expect(lines[0]![3]).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.stdoutBytes.includes(0x1b)).toBe(false);
  });

  it('TTY: a table wrapped to the terminal width', async () => {
    const user = uniqueUser('search-tty');
    const long = 'The user keeps a long list of favourite books, ' + 'including many classics and modern novels '.repeat(4) + 'end.';
    await seed(user, [long]);
    const r = await run(['memories', 'search', 'books', '--user-id', user], { tty: true, columns: 80 });
    expect(r.code).toBe(0);
    const lines = r.stdout.replace(/\u001b\[[0-9;]*m/g, '').trimEnd().split('\n');
    expect(lines[0]).toMatch(/^┌/);
    expect(r.stdout).toMatch(/score/);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    expect(lines.filter((l) => /^│/.test(l)).length).toBeGreaterThan(3); // content wrapped over several lines
    expect(r.stdout.replace(/[│\s]+/g, ' ')).toContain('end.');
    const wide = await run(['memories', 'search', 'books', '--user-id', user], { tty: true, columns: 140 });
    expect(plain(wide.stdout)).toMatch(/│ UserKnowledge │/); // the topic column fits on a wide terminal
    for (const l of plain(wide.stdout).trimEnd().split('\n')) expect([...l].length).toBeLessThanOrEqual(140);
  });

  it('JSON keeps the API document ($schema dropped); ndjson one memory per line', async () => {
    const user = uniqueUser('search-json');
    await seed(user, ['Alpha fact.', 'Beta fact.']);
    const j = await run(['memories', 'search', 'fact', '--user-id', user, '--json']);
    const doc = JSON.parse(j.stdout);
    expect(doc.total).toBe(2);
    expect(doc).not.toHaveProperty('$schema');
    expect(doc.memories[0]).toMatchObject({ user_id: user, topic: 'UserKnowledge' });
    expect(typeof doc.memories[0].score).toBe('number');
    const nd = await run(['memories', 'search', 'fact', '--user-id', user, '-o', 'ndjson']);
    expect(nd.stdout.trim().split('\n').map((l) => JSON.parse(l).content).sort()).toEqual(['Alpha fact.', 'Beta fact.']);
  });

  it('--type fetch, --limit and --topic reach the API', async () => {
    const user = uniqueUser('search-limit');
    await seed(user, ['One.', 'Two.', 'Three.']);
    const r = await run(['memories', 'search', 'anything', '--user-id', user, '--type', 'fetch', '--limit', '2', '--topic', 'UserKnowledge', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.total).toBe(2);
    expect(doc.memories[0]).not.toHaveProperty('score');
    expect(r.stderr).toMatch(/showing the top 2; raise --limit/);
  });

  it('bad flags: exit 2, nothing sent', async () => {
    for (const argv of [
      ['memories', 'search', 'x', '--limit', '0'],
      ['memories', 'search', 'x', '--limit', '101'],
      ['memories', 'search', 'x', '--type', 'fuzzy'],
      ['memories', 'search', '  '],
      ['memories', 'search', 'x', '--property', 'novalue'],
      ['memories', 'search', 'x', '--topic', ''],
    ]) {
      await emu.refused(argv);
    }
  });

  it('API rejections map to exit codes: unknown user 6, missing user_id 6', async () => {
    const r = await run(['memories', 'search', 'x', '--user-id', 'nobody-ever']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/422 .*nobody-ever/);
    const r2 = await run(['memories', 'search', 'x']);
    expect(r2.code).toBe(6);
    expect(r2.stderr).toMatch(/400 .*user_id is required/);
  });
});

describe('engram memories list', () => {
  it('piped: TSV of topic, user, properties, updated, content, id', async () => {
    const user = uniqueUser('list');
    await seed(user, ['Summary of chat one.'], 'ConversationSummary', { properties: { conversation_id: 'c-1' } });
    const r = await run(['memories', 'list', '--user-id', user, '--conversation-id', 'c-1']);
    expect(r.code).toBe(0);
    const [cells] = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(cells).toEqual(['ConversationSummary', user, 'conversation_id=c-1', expect.stringMatching(/^\d{4}-\d\d-\d\dT/), 'Summary of chat one.', expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    expect(r.stderr).toBe('');
  });

  it('TTY: a table with relative times', async () => {
    const user = uniqueUser('list-tty');
    await seed(user, ['Tabled fact.']);
    emu.clock.advance(120_000);
    const r = await run(['memories', 'list', '--user-id', user], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/┌/);
    expect(r.stdout).toMatch(/2m ago/);
    expect(plain(r.stdout)).toContain('Tabled fact.');
    expect(plain(r.stdout)).not.toMatch(/properties/); // an all-empty column is left out on a TTY
  });

  it('says on stderr when the result hits the 100 ceiling', async () => {
    const user = uniqueUser('list-ceiling');
    const memories = await seed(user, Array.from({ length: 105 }, (_, i) => `Fact number ${i}.`));
    expect(memories).toHaveLength(100);
    const r = await run(['memories', 'list', '--user-id', user, '--limit', '100', '-o', 'ndjson']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(100);
    expect(r.stderr).toMatch(/100 memories: the API's ceiling .*no pagination.*engram memories export/);
    const small = await run(['memories', 'list', '--user-id', user, '--limit', '5']);
    expect(small.stderr).toMatch(/showing the first 5; raise --limit \(up to 100\)/);
    expect(small.stderr).not.toMatch(/ceiling/);
  });

  it('--limit over 100 is refused before sending', async () => {
    const r = await run(['memories', 'list', '--limit', '500']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--limit must be from 1 to 100/);
  });
});

describe('engram memories get', () => {
  it('piped: key: value lines; TTY: aligned with wrapped content; JSON: the memory', async () => {
    const user = uniqueUser('get');
    const [m] = await seed(user, ['The user is allergic to peanuts.']);
    const piped = await run(['memories', 'get', m!.id, '--user-id', user]);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain(`id: ${m!.id}\n`);
    expect(piped.stdout).toContain('topic: UserKnowledge\n');
    expect(piped.stdout).toContain('content: The user is allergic to peanuts.\n');
    expect(piped.stdout).not.toMatch(ESC);
    const tty = await run(['memories', 'get', m!.id, '--user-id', user], { tty: true });
    expect(plain(tty.stdout)).toMatch(/Content\s+The user is allergic to peanuts\./);
    expect(tty.stdout).toMatch(/ago \(|just now \(/);
    const json = await run(['memories', 'get', m!.id, '--user-id', user, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: m!.id, content: 'The user is allergic to peanuts.', user_id: user });
    expect(JSON.parse(json.stdout)).not.toHaveProperty('$schema');
  });

  it('not found → 5, with a hint about --user-id when it was not given', async () => {
    const user = uniqueUser('get-404');
    const [m] = await seed(user, ['Hidden.']);
    const r = await run(['memories', 'get', m!.id]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/--user-id/);
  });

  it('an id with a slash is one path segment (percent-encoded), not a route', async () => {
    const r = await run(['memories', 'get', 'a/../b', '--user-id', 'x']);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(1);
  });
});

describe('engram memories delete', () => {
  it('not on a TTY: refuses without --yes (exit 2, nothing sent)', async () => {
    const user = uniqueUser('del');
    const [m] = await seed(user, ['Delete me.']);
    await emu.refused(['memories', 'delete', m!.id, '--user-id', user], /refusing to delete .* without confirmation.*pass --yes/);
  });

  it('--yes deletes (204), a second delete is 404 → 5, --ignore-missing makes it 0', async () => {
    const user = uniqueUser('del-yes');
    const [m] = await seed(user, ['Gone soon.']);
    const r = await run(['memories', 'delete', m!.id, '--user-id', user, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${m!.id}\tdeleted\n`);
    expect((await run(['memories', 'get', m!.id, '--user-id', user])).code).toBe(5);
    const again = await run(['memories', 'delete', m!.id, '--user-id', user, '--yes']);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/--ignore-missing/);
    const ignored = await run(['memories', 'delete', m!.id, '--user-id', user, '--yes', '--ignore-missing', '--json']);
    expect(ignored.code).toBe(0);
    expect(JSON.parse(ignored.stdout)).toEqual({ id: m!.id, status: 'not_found', ignored: true, error: expect.stringMatching(/404/) });
  });

  it('several ids: each reported, JSON array in argument order, worst exit code', async () => {
    const user = uniqueUser('del-many');
    const ms = await seed(user, ['First.', 'Second.']);
    const missing = '00000000-0000-4000-8000-000000000000';
    const ids = [ms[0]!.id, missing, ms[1]!.id];
    const r = await run(['memories', 'delete', ...ids, '--user-id', user, '--yes', '--json']);
    expect(r.code).toBe(5);
    const doc = JSON.parse(r.stdout) as Array<{ id: string; status: string }>;
    expect(doc.map((d) => [d.id, d.status])).toEqual([
      [ids[0], 'deleted'],
      [missing, 'not_found'],
      [ids[2], 'deleted'],
    ]);
    expect(r.stderr).toContain(`memory ${missing}`);
  });

  it('TTY: asks, and deletes only on yes', async () => {
    const user = uniqueUser('del-tty');
    const [m] = await seed(user, ['Ask first.']);
    const no = await run(['memories', 'delete', m!.id, '--user-id', user], { tty: true, stdinTTY: true, stdin: 'n\n' });
    expect(no.code).toBe(2);
    expect(no.stderr).toMatch(/Delete memory .*\? This cannot be undone\. \[y\/N\]/);
    expect(no.stderr).toMatch(/nothing was deleted/);
    expect((await run(['memories', 'get', m!.id, '--user-id', user])).code).toBe(0);
    const yes = await run(['memories', 'delete', m!.id, '--user-id', user], { tty: true, stdinTTY: true, stdin: 'y\n' });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toMatch(/✓.*deleted/);
    expect((await run(['memories', 'get', m!.id, '--user-id', user])).code).toBe(5);
  });
});

describe('engram groups list', () => {
  it('piped: one TSV line per topic with scoping and boundedness', async () => {
    const r = await run(['groups', 'list']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    const summary = rows.find((x) => x[2] === 'ConversationSummary')!;
    expect(summary[0]).toBe('default');
    expect(summary[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(summary.slice(3, 6)).toEqual(['yes', 'conversation_id', 'yes']);
    expect(rows.some((x) => x[0] === 'digest')).toBe(true);
  });

  it('TTY: a heading and a table per group; JSON: {groups}', async () => {
    const tty = await run(['groups', 'list'], { tty: true });
    expect(plain(tty.stdout)).toMatch(/^default  [0-9a-f-]{36}$/m);
    expect(tty.stdout).toMatch(/┌/);
    expect(plain(tty.stdout)).toMatch(/user scoped/);
    const json = JSON.parse((await run(['groups', 'list', '--json'])).stdout);
    expect(json.groups.map((g: { name: string }) => g.name)).toContain('digest');
    expect(json.groups[0].topics[0]).toHaveProperty('scoping.user_scoped');
  });
});

describe('tables on a terminal too narrow for them', () => {
  it('fall back to one record per row, every line within the width', async () => {
    await emu.addRaw({ input: { pre_extracted: { items: [{ content: 'A fairly long memory about the user who likes green tea in the morning.', topic: 'UserKnowledge' }] } }, user_id: 'narrow-term' });
    emu.clock.advance(3000);
    const r = await run(['memories', 'list', '--user-id', 'narrow-term'], { tty: true, columns: 30 });
    expect(r.code).toBe(0);
    const plain = r.stdout.replace(/\u001b\[[0-9;]*m/g, '');
    for (const line of plain.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(30);
    expect(plain).toMatch(/^content +A fairly long/m);
    expect(plain).not.toMatch(/[┌│]/);
  });
});
