import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem, opIds, OTHER_KEY, RUN_TIME, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

const FACTS = [
  'The user prefers dark mode in every editor.',
  'The user works primarily in Python and Rust.',
  'The user is building a retrieval application with Python.',
  'The user has a cat named Miso.',
];

/** Add FACTS for alice (one run), complete it, return the memory ids by content. */
async function seed(): Promise<Map<string, string>> {
  const id = await h.addText('alice', [FACTS.join(' ')]);
  h.clock.advance(RUN_TIME);
  const ids = opIds(await h.run(id)).created;
  const byContent = new Map<string, string>();
  for (const mid of ids) byContent.set((await h.call('GET', `/v1/memories/${mid}?user_id=alice`)).json.content, mid);
  return byContent;
}

const search = (body: object) => h.call('POST', '/v1/memories/search', { body: { user_id: 'alice', ...body } });

describe('GET and DELETE /v1/memories/{id}', () => {
  it('returns the memory with its project, topic, group and the user id as sent', async () => {
    const id = await h.addText('Alice', ['I like tea.']);
    h.clock.advance(RUN_TIME);
    const [mid] = opIds(await h.run(id)).created;
    const res = await h.call('GET', `/v1/memories/${mid}?user_id=alice&group=default`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: mid,
      user_id: 'Alice',
      content: 'I like tea.',
      topic: 'UserKnowledge',
      group: 'default',
    });
    expect(res.json.project_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json).not.toHaveProperty('score');
  });

  it('needs the owning user for a user-scoped memory; an unknown user is 422', async () => {
    const [mid] = [...(await seed()).values()];
    await h.addText('bob', ['Bob exists.']);
    expectProblem(await h.call('GET', `/v1/memories/${mid}`), 404);
    expectProblem(await h.call('GET', `/v1/memories/${mid}?user_id=bob`), 404);
    expect(expectProblem(await h.call('GET', `/v1/memories/${mid}?user_id=zed`), 422).detail).toBe('user "zed" not found');
    expectProblem(await h.call('GET', `/v1/memories/${mid}?user_id=alice&group=digest`), 404);
    expect(expectProblem(await h.call('GET', `/v1/memories/${mid}?user_id=alice&group=nope`), 422).detail).toMatch(
      /group "nope" not found/,
    );
    expect(expectProblem(await h.call('GET', '/v1/memories/123?user_id=alice'), 422).errors[0].location).toBe('path.id');
  });

  it('deletes with 204 and an empty body; then GET and DELETE are 404', async () => {
    const [mid] = [...(await seed()).values()];
    const del = await h.call('DELETE', `/v1/memories/${mid}?user_id=alice`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expectProblem(await h.call('GET', `/v1/memories/${mid}?user_id=alice`), 404);
    expectProblem(await h.call('DELETE', `/v1/memories/${mid}?user_id=alice`), 404);
    const list = await h.call('POST', '/v1/memories/list', { body: { user_id: 'alice' } });
    expect(list.json.memories.map((m: any) => m.id)).not.toContain(mid);
    expect(list.json.total).toBe(FACTS.length - 1);
  });
});

describe('POST /v1/memories/search', () => {
  it('bm25: real BM25 scores (≥ 0), best match first; nothing without lexical overlap', async () => {
    const ids = await seed();
    const res = await search({ query: 'python', retrieval_config: { retrieval_type: 'bm25' } });
    expect(res.status).toBe(200);
    expect(res.json.total).toBe(2);
    expect(res.json.memories).toHaveLength(2);
    for (const m of res.json.memories) expect(m.content).toMatch(/Python/);
    expect(res.json.memories[0].score).toBeGreaterThanOrEqual(res.json.memories[1].score);
    expect(res.json.memories.every((m: any) => m.score > 0)).toBe(true);
    // The shorter document with the same term frequency ranks first (length normalisation, b > 0).
    expect(res.json.memories[0].id).toBe(ids.get(FACTS[1]!));

    const none = await search({ query: 'zebra giraffe', retrieval_config: { retrieval_type: 'bm25' } });
    expect(none.json).toMatchObject({ memories: [], total: 0 });
  });

  it('vector: cosine of the local embedding in [0, 1], filled up to the limit, most similar first', async () => {
    const ids = await seed();
    const res = await search({ query: 'cats named miso', retrieval_config: { retrieval_type: 'vector', limit: 3 } });
    expect(res.json.total).toBe(3);
    for (const m of res.json.memories) {
      expect(m.score).toBeGreaterThanOrEqual(0);
      expect(m.score).toBeLessThanOrEqual(1);
    }
    expect(res.json.memories[0].id).toBe(ids.get(FACTS[3]!));
    const scores = res.json.memories.map((m: any) => m.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('hybrid (the default): a blend in [0, 1] led by the best lexical and semantic match', async () => {
    const ids = await seed();
    const res = await search({ query: 'dark mode editor' });
    expect(res.json.total).toBe(FACTS.length);
    expect(res.json.memories[0].id).toBe(ids.get(FACTS[0]!));
    for (const m of res.json.memories) {
      expect(m.score).toBeGreaterThanOrEqual(0);
      expect(m.score).toBeLessThanOrEqual(1);
    }
    expect(res.json.memories[0].score).toBeGreaterThan(res.json.memories[1].score);
  });

  it('fetch: most recent first, query ignored, no score', async () => {
    await seed();
    h.clock.advance(1000);
    const later = await h.addText('alice', ['A newer fact.']);
    h.clock.advance(RUN_TIME);
    const [newest] = opIds(await h.run(later)).created;
    const res = await search({ query: 'python', retrieval_config: { retrieval_type: 'fetch', limit: 2 } });
    expect(res.json.total).toBe(2);
    expect(res.json.memories[0].id).toBe(newest);
    expect(res.json.memories[0]).not.toHaveProperty('score');
  });

  it('422 for a user that never had an add; empty for a known user without memories', async () => {
    await seed();
    expect(expectProblem(await h.call('POST', '/v1/memories/search', { body: { query: 'x', user_id: 'nobody' } }), 422).detail).toBe(
      'user "nobody" not found',
    );
    for (const odd of ['constructor', '__proto__', 'toString'])
      expectProblem(await h.call('POST', '/v1/memories/search', { body: { query: 'x', user_id: odd } }), 422);
    await h.addText('carol', ['   ']); // known user, the run fails, no memories
    const res = await h.call('POST', '/v1/memories/search', { body: { query: 'python', user_id: 'CAROL' } });
    expect(res.json).toMatchObject({ memories: [], total: 0 });
  });

  it('filters by user, topics and properties', async () => {
    await seed();
    await h.add({
      input: { conversation: { messages: [{ role: 'user', content: 'Python is my favourite.' }] } },
      user_id: 'alice',
      properties: { conversation_id: 'c-9' },
    });
    await h.addText('bob', ['Bob writes Python too.']);
    h.clock.advance(RUN_TIME);
    const bm = { retrieval_type: 'bm25' };
    const all = await search({ query: 'python', retrieval_config: bm });
    expect(all.json.memories.every((m: any) => m.user_id === 'alice')).toBe(true);
    expect(new Set(all.json.memories.map((m: any) => m.topic))).toEqual(new Set(['UserKnowledge', 'ConversationSummary']));

    const summaries = await search({ query: 'python', retrieval_config: bm, topics: ['ConversationSummary'] });
    expect(summaries.json.memories.map((m: any) => m.topic)).toEqual(['ConversationSummary']);

    const wrongConv = await search({ query: 'python', retrieval_config: bm, properties: { conversation_id: 'other' } });
    expect(wrongConv.json.memories.every((m: any) => m.topic === 'UserKnowledge')).toBe(true);
    expect(wrongConv.json.total).toBe(all.json.total - 1);

    const cleared = await search({
      query: 'python',
      retrieval_config: bm,
      properties: { conversation_id: 'other' },
      topics: [{ name: 'ConversationSummary', properties: { conversation_id: null } }],
    });
    expect(cleared.json.memories.map((m: any) => m.topic)).toEqual(['ConversationSummary']);

    expectProblem(await search({ query: 'x', topics: ['Nope'] }), 422);
    expectProblem(await search({ query: 'x', topics: [{ name: 'UserKnowledge', properties: { conversation_id: 'c' } }] }), 400);
    expectProblem(await h.call('POST', '/v1/memories/search', { body: { query: 'python' } }), 400);
  });
});

describe('POST /v1/memories/list', () => {
  it('defaults to 20, honours limit, total = number returned, most recent first', async () => {
    const sentences = Array.from({ length: 25 }, (_, i) => `Fact number ${i}.`);
    for (const s of sentences) {
      await h.addText('alice', [s]);
      h.clock.advance(10);
    }
    h.clock.advance(RUN_TIME);
    const res = await h.call('POST', '/v1/memories/list', { body: { user_id: 'alice' } });
    expect(res.json.total).toBe(20);
    expect(res.json.memories).toHaveLength(20);
    expect(res.json.memories[0].content).toBe('Fact number 24.');
    const times = res.json.memories.map((m: any) => Date.parse(m.updated_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const five = await h.call('POST', '/v1/memories/list', { body: { user_id: 'alice', limit: 5 } });
    expect(five.json).toMatchObject({ total: 5 });
    const hundred = await h.call('POST', '/v1/memories/list', { body: { user_id: 'alice', limit: 100 } });
    expect(hundred.json.total).toBe(25);
    expect(res.json.$schema).toMatch(/MemoryList\.json$/);
  });

  it('lists only the asked group and needs user_id for user-scoped topics', async () => {
    await h.addText('alice', ['In default.']);
    h.clock.advance(RUN_TIME);
    const digest = await h.call('POST', '/v1/memories/list', { body: { user_id: 'alice', group: 'digest' } });
    expect(digest.json.total).toBe(0);
    expect(expectProblem(await h.call('POST', '/v1/memories/list', { body: {} }), 400).detail).toMatch(/user_id is required/);
  });
});

describe('groups', () => {
  it('lists default and digest with topics and scoping', async () => {
    const res = await h.call('GET', '/v1/groups');
    expect(res.status).toBe(200);
    expect(res.json.$schema).toMatch(/GroupList\.json$/);
    const [def, digest] = res.json.groups;
    expect(def.name).toBe('default');
    expect(def.group_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(def.topics).toEqual([
      expect.objectContaining({ topic_name: 'UserKnowledge', is_bounded: false, scoping: { user_scoped: true, scope_properties: [] } }),
      expect.objectContaining({
        topic_name: 'ConversationSummary',
        is_bounded: true,
        scoping: { user_scoped: true, scope_properties: ['conversation_id'] },
      }),
    ]);
    expect(digest).toMatchObject({ name: 'digest', topics: [expect.objectContaining({ topic_name: 'Digest', is_bounded: false })] });
  });

  it('gets one group by name (default when no name), 404 for an unknown one', async () => {
    const all = (await h.call('GET', '/v1/groups')).json.groups;
    const digest = await h.call('GET', '/v1/groups/by-name?name=digest');
    expect(digest.json).toMatchObject({ name: 'digest', group_id: all[1].group_id });
    expect((await h.call('GET', '/v1/groups/by-name')).json.name).toBe('default');
    expectProblem(await h.call('GET', '/v1/groups/by-name?name=Digest'), 404);
    const other = await h.call('GET', '/v1/groups/by-name?name=digest', { key: OTHER_KEY });
    expect(other.json.group_id).not.toBe(all[1].group_id);
  });
});
