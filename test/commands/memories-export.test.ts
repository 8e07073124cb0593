import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Group } from '../../src/api/types.js';
import { planExport } from '../../src/commands/memories/export.js';
import { useEmulator } from '../helpers/emulator.js';

const emu = useEmulator({ runTimeMs: 2000 });
const run = emu.run;
let n = 0;
const uniqueUser = (p: string) => `${p}-${++n}`;
const dir = () => mkdtempSync(join(tmpdir(), 'engram-export-'));

/** Memory ids a run created (from the run itself, not from a listing). */
async function created(runId: string): Promise<string[]> {
  const r = await run(['runs', 'get', runId, '--json']);
  const doc = JSON.parse(r.stdout) as { status: string; committed_operations: { created: Array<{ memory_id: string }> } };
  expect(doc.status).toBe('completed');
  return doc.committed_operations.created.map((o) => o.memory_id);
}

const items = (topic: string, contents: string[]) => ({ pre_extracted: { items: contents.map((content) => ({ content, topic })) } });

/** A user with memories in every topic of every group (the digest group via its buffer). */
async function populate(user: string): Promise<string[]> {
  const runs: string[] = [];
  runs.push(await emu.addRaw({ input: items('UserKnowledge', [`${user} likes tea.`, `${user} plays chess.`]), user_id: user }));
  runs.push(await emu.addRaw({ input: { string: { content: [`${user} lives in Porto. ${user} cycles to work.`] } }, user_id: user }));
  for (const c of ['c1', 'c2']) {
    runs.push(await emu.addRaw({ input: items('ConversationSummary', [`${user} talked about ${c}.`]), user_id: user, properties: { conversation_id: c } }));
  }
  for (const d of ['one', 'two', 'three']) {
    runs.push(await emu.addRaw({ input: { string: { content: [`${user} digest fact ${d}.`] } }, user_id: user, group: 'digest' }));
  }
  emu.clock.advance(2500);
  await emu.control('/_emulator/groups/digest/flush');
  const ids: string[] = [];
  for (const r of runs) ids.push(...(await created(r)));
  return ids;
}

function parseJsonl(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('engram memories export: completeness', () => {
  it('every memory added is exported exactly once, across groups, topics and users', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const expected = [...(await populate(alice)), ...(await populate(bob))];
    expect(expected.length).toBe(2 * (2 + 2 + 2 + 3));
    const out = join(dir(), 'all.jsonl');
    // the same user twice (user ids are case-insensitive) must not duplicate anything
    const r = await run(['memories', 'export', '--user-id', alice, '--user-id', bob, '--user-id', alice.toUpperCase(), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const lines = parseJsonl(readFileSync(out, 'utf8'));
    const ids = lines.map((m) => m.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...expected].sort());
    expect(r.stderr).toMatch(new RegExp(`exported ${expected.length} memories from 6 slices to `));
    // each line is the API's memory object, $schema dropped
    const one = lines.find((m) => m.topic === 'ConversationSummary')!;
    expect(one).toMatchObject({ group: 'default', properties: { conversation_id: expect.any(String) } });
    expect(one).not.toHaveProperty('$schema');
    const direct = await run(['memories', 'get', one.id as string, '--user-id', one.user_id as string, '--json']);
    expect(JSON.parse(direct.stdout)).toEqual(one);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('dedupes by id when the service returns a memory twice', async () => {
    const user = uniqueUser('dupe');
    const runId = await emu.addRaw({ input: items('UserKnowledge', ['Only once.']), user_id: user });
    emu.clock.advance(2500);
    const [id] = await created(runId);
    const m = JSON.parse((await run(['memories', 'get', id!, '--user-id', user, '--json'])).stdout);
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories/list', count: 2, status: 200, body: { memories: [m, m], total: 2 } });
    const r = await run(['memories', 'export', '--user-id', user, '--group', 'default']);
    expect(r.code).toBe(0);
    expect(parseJsonl(r.stdout).map((x) => x.id)).toEqual([id]);
  });

  it('to stdout as JSONL; scope flags narrow it; -q keeps stderr silent', async () => {
    const user = uniqueUser('scoped');
    await populate(user);
    const r = await run(['memories', 'export', '--user-id', user, '--group', 'default', '--topic', 'ConversationSummary', '--conversation-id', 'c2', '-q']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = parseJsonl(r.stdout);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ topic: 'ConversationSummary', properties: { conversation_id: 'c2' }, user_id: user });
  });

  it('on a TTY it is still plain JSONL (no colour, no table); --json is refused', async () => {
    const user = uniqueUser('tty');
    await populate(user);
    const r = await run(['memories', 'export', '--user-id', user, '--group', 'digest'], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.includes(0x1b)).toBe(false);
    expect(parseJsonl(r.stdout).map((m) => m.topic)).toEqual(['Digest', 'Digest', 'Digest']);
    const j = await run(['memories', 'export', '--user-id', user, '--json']);
    expect(j.code).toBe(2);
    expect(j.stderr).toMatch(/JSONL/);
  });

  it('user-scoped topics without --user-id: says which were skipped and why (exit 2 when nothing is left)', async () => {
    const r = await run(['memories', 'export']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nothing to export: skipped user-scoped topics default\/UserKnowledge, default\/ConversationSummary, digest\/Digest/);
    expect(r.stderr).toMatch(/--user-id/);
    expect(r.stdout).toBe('');
  });

  it('unknown group, topic or property: exit 2, naming what exists', async () => {
    const g = await run(['memories', 'export', '--user-id', 'x', '--group', 'nope']);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/no group named "nope"; groups: default, digest/);
    const t = await run(['memories', 'export', '--user-id', 'x', '--topic', 'Nope']);
    expect(t.stderr).toMatch(/no topic named "Nope"/);
    const p = await run(['memories', 'export', '--user-id', 'x', '--group', 'digest', '--property', 'conversation_id=1']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/no selected topic is scoped by the property "conversation_id"/);
  });
});

describe('engram memories export: the 100-result ceiling', () => {
  it('warns for every slice at the ceiling, naming it and how to narrow it', async () => {
    const user = uniqueUser('big');
    await emu.addRaw({ input: items('UserKnowledge', Array.from({ length: 120 }, (_, i) => `Fact ${i}.`)), user_id: user });
    for (let i = 0; i < 100; i++) {
      await emu.addRaw({ input: items('ConversationSummary', [`Chat ${i}.`]), user_id: user, properties: { conversation_id: `conv-${i}` } });
    }
    emu.clock.advance(2500);
    const r = await run(['memories', 'export', '--user-id', user, '--group', 'default']);
    expect(r.code).toBe(0);
    expect(parseJsonl(r.stdout)).toHaveLength(200);
    expect(r.stderr).toMatch(new RegExp(`group "default", topic "UserKnowledge", user "${user}": 100 memories, the API's ceiling .*no narrower filter`));
    expect(r.stderr).toMatch(new RegExp(`group "default", topic "ConversationSummary", user "${user}": 100 memories.*--property conversation_id=…`));
    expect(r.stderr).toMatch(/2 slices hit the 100-result ceiling and may be incomplete/);
    // a slice under the ceiling gets no warning
    const small = await run(['memories', 'export', '--user-id', user, '--topic', 'ConversationSummary', '--conversation-id', 'conv-7']);
    expect(parseJsonl(small.stdout)).toHaveLength(1);
    expect(small.stderr).not.toMatch(/ceiling/);
  });
});

describe('engram memories export: atomic --out', () => {
  it('a failure on the 3rd list call leaves the previous file intact and no temp file', async () => {
    const user = uniqueUser('atomic');
    await populate(user);
    const d = dir();
    const out = join(d, 'backup.jsonl');
    writeFileSync(out, 'previous export\n');
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories/list', after: 2, count: 3, status: 500 });
    const r = await run(['memories', 'export', '--user-id', user, '--out', out]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/500/);
    expect(r.stderr).toMatch(/while exporting group "digest", topic "Digest"/);
    expect(r.stderr).toMatch(/was not written \(any previous file is unchanged\)/);
    expect(readFileSync(out, 'utf8')).toBe('previous export\n');
    expect(readdirSync(d)).toEqual(['backup.jsonl']);
    // and with no previous file, nothing appears under the final name
    const fresh = join(d, 'fresh.jsonl');
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories/list', after: 2, count: 1, status: 422, body: { detail: 'boom' } });
    const r2 = await run(['memories', 'export', '--user-id', user, '--out', fresh]);
    expect(r2.code).toBe(6);
    expect(existsSync(fresh)).toBe(false);
    expect(readdirSync(d)).toEqual(['backup.jsonl']);
    // the same export without a fault replaces the file in one step
    const ok = await run(['memories', 'export', '--user-id', user, '--out', out]);
    expect(ok.code).toBe(0);
    expect(parseJsonl(readFileSync(out, 'utf8'))).toHaveLength(9);
    expect(readdirSync(d)).toEqual(['backup.jsonl']);
  });

  it('an unwritable destination fails before any request', async () => {
    await emu.refused(['memories', 'export', '--user-id', 'x', '--out', '/nonexistent-dir/x.jsonl'], /cannot write --out .*no such directory/);
  });
});

describe('planExport', () => {
  const topic = (name: string, user: boolean, props: string[] = []) => ({
    topic_name: name,
    description: '',
    is_bounded: false,
    scoping: { user_scoped: user, scope_properties: props },
  });
  const groups: Group[] = [
    { group_id: 'g1', name: 'default', topics: [topic('UserKnowledge', true), topic('Shared', false, ['team_id'])] },
    { group_id: 'g2', name: 'ops', topics: [topic('Runbooks', false)] },
  ];

  it('exports topics that are not user-scoped without a user, and lists the skipped ones', () => {
    const plan = planExport(groups, { users: [] });
    expect(plan.slices.map((s) => `${s.group}/${s.topic}`)).toEqual(['default/Shared', 'ops/Runbooks']);
    expect(plan.skipped).toEqual(['default/UserKnowledge']);
  });

  it('one slice per user for user-scoped topics; a property applies only to topics scoped by it', () => {
    const plan = planExport(groups, { users: ['a', 'b'], properties: { team_id: 't1' } });
    expect(plan.slices).toEqual([
      { group: 'default', topic: 'UserKnowledge', user_id: 'a', narrowBy: [] },
      { group: 'default', topic: 'UserKnowledge', user_id: 'b', narrowBy: [] },
      { group: 'default', topic: 'Shared', properties: { team_id: 't1' }, narrowBy: [] },
      { group: 'ops', topic: 'Runbooks', narrowBy: [] },
    ]);
    expect(planExport(groups, { users: [] }).slices[0]!.narrowBy).toEqual(['team_id']);
  });
});

describe('engram memories export: a 200 that is not a memory list', () => {
  it.each([
    ['{}', {}],
    ['memories is a string', { memories: 'oops' }],
    ['a list of non-memories', { memories: [1, 2], total: 2 }],
  ])('%s: retried, then exit 7 and the previous file untouched', async (_name, body) => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-export-shape-'));
    const out = join(dir, 'backup.jsonl');
    writeFileSync(out, '{"id":"keep-me"}\n');
    await emu.control('/_emulator/faults', { path: '/v1/memories/list', count: 1000, action: 'respond', status: 200, body });
    const r = await run(['memories', 'export', '--user-id', 'alice', '--out', out]);
    await emu.control('/_emulator/faults', undefined, 'DELETE'); // open-ended on purpose
    expect(r.code).toBe(7);
    expect(readFileSync(out, 'utf8')).toBe('{"id":"keep-me"}\n');
    expect(readdirSync(dir)).toEqual(['backup.jsonl']);
  });

  it('memories list and groups list do not take a wrong shape for "nothing"', async () => {
    await emu.control('/_emulator/faults', { path: '/v1/memories/list', count: 1000, action: 'respond', status: 200, body: {} });
    const list = await run(['memories', 'list', '--user-id', 'alice']);
    await emu.control('/_emulator/faults', undefined, 'DELETE');
    expect(list.code).toBe(7);
    expect(list.stderr).toMatch(/memory list response has no "memories"/);
    await emu.control('/_emulator/faults', { path: '/v1/groups', count: 1000, action: 'respond', status: 200, body: [1, 2] });
    const groups = await run(['groups', 'list']);
    await emu.control('/_emulator/faults', undefined, 'DELETE');
    expect(groups.code).toBe(7);
  });
});
