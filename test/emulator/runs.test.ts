import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7Time } from '../../src/emulator/ids.js';
import { expectProblem, KEY, opIds, OTHER_KEY, RUN_TIME, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

const iso = (ms: number) => new Date(ms).toISOString();

async function groupIds(key = KEY): Promise<Record<string, string>> {
  const res = await h.call('GET', '/v1/groups', { key });
  return Object.fromEntries(res.json.groups.map((g: any) => [g.name, g.group_id]));
}

describe('POST /v1/memories and the run object', () => {
  it('answers 200 running with a UUIDv7 run id taken from the clock', async () => {
    const t0 = h.clock.now();
    const res = await h.call('POST', '/v1/memories', {
      body: { input: { string: { content: ['I like tea.'] } }, user_id: 'alice' },
    });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('running');
    expect(res.json.run_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Time(res.json.run_id)).toBe(t0);
  });

  it('describes a running string run completely', async () => {
    const t0 = h.clock.now();
    const id = await h.addText('Alice', ['I like tea.']);
    const run = await h.run(id);
    expect(run).toMatchObject({
      run_id: id,
      status: 'running',
      group_id: (await groupIds()).default,
      user_id: 'Alice',
      starting_step: 1,
      input_type: 'string',
      committed_operations: { created: [], updated: [], deleted: [] },
      created_at: iso(t0),
      updated_at: iso(t0),
    });
    expect(run.$schema).toMatch(/\/schemas\/Run\.json$/);
    expect(run).not.toHaveProperty('error');
  });

});

describe('lifecycle: running → completed', () => {
  it('stays running until --run-time has passed, then commits one memory per sentence', async () => {
    const t0 = h.clock.now();
    const id = await h.addText('alice', ['I like tea. I live in Lisbon!', 'My dog is called Rex?  ']);
    h.clock.advance(RUN_TIME - 1);
    expect((await h.run(id)).status).toBe('running');
    h.clock.advance(1);
    const run = await h.run(id);
    expect(run.status).toBe('completed');
    expect(run.updated_at).toBe(iso(t0 + RUN_TIME));
    const ops = opIds(run);
    expect(ops.created).toHaveLength(3);
    expect(ops.updated).toEqual([]);
    expect(run.committed_operations.created.every((o: any) => o.committed_at === iso(t0 + RUN_TIME))).toBe(true);
    const contents = await Promise.all(
      ops.created.map(async (m) => (await h.call('GET', `/v1/memories/${m}?user_id=alice`)).json.content),
    );
    expect(contents.sort()).toEqual(['I like tea.', 'I live in Lisbon!', 'My dog is called Rex?']);
  });

  it('completes runs lazily, in due order, even when time jumped past several of them', async () => {
    const a = await h.addText('alice', ['First fact.']);
    h.clock.advance(500);
    const b = await h.addText('alice', ['Second fact.']);
    h.clock.advance(60_000);
    const [ra, rb] = [await h.run(a), await h.run(b)];
    expect(ra.status).toBe('completed');
    expect(rb.status).toBe('completed');
    expect(Date.parse(rb.updated_at) - Date.parse(ra.updated_at)).toBe(500);
  });

  it('updates an identical memory (same content, topic, scope) instead of duplicating it', async () => {
    const first = await h.addText('alice', ['I like tea.']);
    h.clock.advance(RUN_TIME);
    const created = opIds(await h.run(first)).created;
    expect(created).toHaveLength(1);
    const before = (await h.call('GET', `/v1/memories/${created[0]}?user_id=alice`)).json;

    h.clock.advance(10_000);
    const second = await h.addText('ALICE', ['I like tea.', 'I like tea.']); // user ids are case-insensitive
    h.clock.advance(RUN_TIME);
    const run = await h.run(second);
    expect(run.status).toBe('completed');
    expect(run.user_id).toBe('ALICE');
    expect(opIds(run)).toEqual({ created: [], updated: created, deleted: [] });

    const after = (await h.call('GET', `/v1/memories/${created[0]}?user_id=Alice`)).json;
    expect(after.created_at).toBe(before.created_at);
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
    const list = await h.call('POST', '/v1/memories/list', { body: { user_id: 'alice' } });
    expect(list.json.total).toBe(1);
  });

  it('keeps the same content of different users apart', async () => {
    await h.addText('alice', ['I like tea.']);
    const bob = await h.addText('bob', ['I like tea.']);
    h.clock.advance(RUN_TIME);
    expect(opIds(await h.run(bob)).created).toHaveLength(1);
  });

  it('takes pre-extracted items as given, at starting step 2', async () => {
    const id = await h.add({
      input: { pre_extracted: { items: [{ content: 'Prefers dark mode, works in Python', topic: 'UserKnowledge' }] } },
      user_id: 'alice',
    });
    h.clock.advance(RUN_TIME);
    const run = await h.run(id);
    expect(run).toMatchObject({ status: 'completed', input_type: 'pre_extracted', starting_step: 2 });
    const [mid] = opIds(run).created;
    const mem = (await h.call('GET', `/v1/memories/${mid}?user_id=alice`)).json;
    expect(mem).toMatchObject({ content: 'Prefers dark mode, works in Python', topic: 'UserKnowledge', group: 'default' });
  });
});

describe('conversations', () => {
  const conversation = (userTurns: string[], extra: object[] = []) => ({
    conversation: {
      messages: [
        { role: 'system', content: 'You are helpful.' },
        ...userTurns.flatMap((c) => [
          { role: 'user', content: c },
          { role: 'assistant', content: 'Noted. Anything else?' },
        ]),
        ...extra,
      ],
    },
  });

  it('extracts user turns only, and writes the bounded ConversationSummary once, then updates it', async () => {
    const first = await h.add({
      input: conversation(['I am vegetarian.']),
      user_id: 'alice',
      properties: { conversation_id: 'c-1' },
    });
    h.clock.advance(RUN_TIME);
    const run1 = await h.run(first);
    expect(run1.input_type).toBe('conversation');
    expect(opIds(run1).created).toHaveLength(2); // one fact + the summary

    const second = await h.add({
      input: conversation(['I am allergic to nuts.']),
      user_id: 'alice',
      properties: { conversation_id: 'c-1' },
    });
    h.clock.advance(RUN_TIME);
    const run2 = await h.run(second);
    expect(opIds(run2).created).toHaveLength(1);
    expect(opIds(run2).updated).toHaveLength(1);
    const summaryId = opIds(run2).updated[0]!;
    expect(opIds(run1).created).toContain(summaryId);
    const summary = (await h.call('GET', `/v1/memories/${summaryId}?user_id=alice`)).json;
    expect(summary).toMatchObject({ topic: 'ConversationSummary', properties: { conversation_id: 'c-1' } });
    expect(summary.content).toContain('I am vegetarian.');
    expect(summary.content).toContain('I am allergic to nuts.');
    expect(summary.content).not.toContain('Noted');

    const other = await h.add({ input: conversation(['Hi there.']), user_id: 'alice', properties: { conversation_id: 'c-2' } });
    h.clock.advance(RUN_TIME);
    const run3 = await h.run(other);
    expect(opIds(run3).created).toHaveLength(2);
    expect(opIds(run3).created).not.toContain(summaryId);
  });

  it('writes no summary without a conversation_id', async () => {
    const id = await h.add({ input: conversation(['I am vegetarian.']), user_id: 'alice' });
    h.clock.advance(RUN_TIME);
    expect(opIds(await h.run(id)).created).toHaveLength(1);
  });
});

describe('lifecycle: failed', () => {
  it.each([
    ['whitespace-only text', { string: { content: ['   ', '\n\t'] } }],
    ['punctuation-only text', { string: { content: ['...'] } }],
    [
      'only assistant and system turns',
      {
        conversation: {
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'assistant', content: 'Hello! How can I help?' },
          ],
        },
      },
    ],
  ])('fails after --run-time when the input has no user content (%s)', async (_name, input) => {
    const id = await h.add({ input, user_id: 'alice' });
    expect((await h.run(id)).status).toBe('running');
    h.clock.advance(RUN_TIME);
    const run = await h.run(id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^extraction produced no memories: the input has no user content/);
    expect(run.committed_operations).toEqual({ created: [], updated: [], deleted: [] });
  });
});

describe('lifecycle: buffered group (digest)', () => {
  it('parks runs in_buffer and completes them together when the trigger count is reached', async () => {
    const ids: string[] = [];
    ids.push(await h.addText('alice', ['Digest fact one.'], { group: 'digest' }));
    ids.push(await h.addText('alice', ['Digest fact two.'], { group: 'digest' }));
    h.clock.advance(RUN_TIME);
    for (const id of ids) expect((await h.run(id)).status).toBe('in_buffer');
    const digestId = (await groupIds()).digest;
    expect((await h.run(ids[0]!)).group_id).toBe(digestId);

    h.clock.advance(5000);
    const third = await h.addText('alice', ['Digest fact three.'], { group: 'digest' });
    expect((await h.run(ids[0]!)).status).toBe('in_buffer');
    h.clock.advance(RUN_TIME);
    const runs = await Promise.all([...ids, third].map((id) => h.run(id)));
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    const committedAt = new Set(runs.map((r) => r.committed_operations.created[0].committed_at));
    expect(committedAt.size).toBe(1);
    const mem = await h.call('GET', `/v1/memories/${opIds(runs[0]).created[0]}?user_id=alice&group=digest`);
    expect(mem.json.topic).toBe('Digest');
  });

  it('keeps each project’s buffer separate', async () => {
    const a1 = await h.addText('alice', ['One.'], { group: 'digest' });
    await h.addText('alice', ['Two.'], { group: 'digest' });
    await h.addText('alice', ['Three.'], { group: 'digest' }, OTHER_KEY);
    h.clock.advance(RUN_TIME);
    expect((await h.run(a1)).status).toBe('in_buffer');
  });

  it('honours a custom trigger', async () => {
    const one = await startHarness({ bufferTrigger: 1 });
    try {
      const id = await one.addText('alice', ['Alone.'], { group: 'digest' });
      one.clock.advance(RUN_TIME);
      expect((await one.run(id)).status).toBe('completed');
    } finally {
      await one.close();
    }
  });
});

describe('isolation and lookups', () => {
  it('403 for a run of another project, 404 for its memories', async () => {
    const id = await h.addText('alice', ['Secret fact.']);
    const p = expectProblem(await h.call('GET', `/v1/runs/${id}`, { key: OTHER_KEY }), 403);
    expect(p.detail).toMatch(/another project/);
    h.clock.advance(RUN_TIME);
    const [mid] = opIds(await h.run(id)).created;
    await h.addText('alice', ['Other project fact.'], {}, OTHER_KEY);
    expectProblem(await h.call('GET', `/v1/memories/${mid}?user_id=alice`, { key: OTHER_KEY }), 404);
    expectProblem(await h.call('DELETE', `/v1/memories/${mid}?user_id=alice`, { key: OTHER_KEY }), 404);
    expect((await h.call('GET', `/v1/memories/${mid}?user_id=alice`)).status).toBe(200);
  });

  it('gives each key its own stable group ids', async () => {
    const a = await groupIds(KEY);
    const again = await groupIds(KEY);
    const b = await groupIds(OTHER_KEY);
    expect(again).toEqual(a);
    expect(a.default).not.toBe(b.default);
    expect(a.default).not.toBe(a.digest);
  });

  it('404 for an unknown run id, 422 for a non-UUID one', async () => {
    const fresh = await h.addText('alice', ['x y z.']);
    const unknown = fresh.slice(0, -4) + (fresh.endsWith('0000') ? '1111' : '0000');
    expectProblem(await h.call('GET', `/v1/runs/${unknown}`), 404);
    const p = expectProblem(await h.call('GET', '/v1/runs/not-a-uuid'), 422);
    expect(p.errors[0]).toMatchObject({ location: 'path.run_id', value: 'not-a-uuid' });
  });
});
