import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectProblem, KEY, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ maxBodyBytes: 4096 });
});
afterEach(() => h.close());

const add = (body: unknown) => h.call('POST', '/v1/memories', { body });
const text = (content: unknown, extra: object = {}) => ({ input: { string: { content } }, user_id: 'alice', ...extra });

describe('schema validation (422 with locations)', () => {
  it('names the location of a bad enum value deep in the body', async () => {
    const p = expectProblem(
      await add({ input: { conversation: { messages: [{ role: 'robot', content: 'hi' }] } }, user_id: 'alice' }),
      422,
    );
    expect(p.title).toBe('Unprocessable Entity');
    expect(p.errors).toContainEqual(
      expect.objectContaining({ location: 'body.input.conversation.messages[0].role', value: 'robot' }),
    );
  });

  it('reports a missing required property at its parent', async () => {
    const p = expectProblem(await add({ user_id: 'alice' }), 422);
    expect(p.errors).toContainEqual(
      expect.objectContaining({ location: 'body', message: 'expected required property input to be present' }),
    );
    const q = expectProblem(await add({ input: { pre_extracted: { items: [{ content: 'x' }] } }, user_id: 'a' }), 422);
    expect(q.errors[0].location).toBe('body.input.pre_extracted.items[0]');
    expect(q.errors[0].message).toMatch(/topic/);
  });

  it('rejects unknown properties anywhere (additionalProperties: false)', async () => {
    const p = expectProblem(await add({ ...text(['hi.']), conversation_id: 'legacy' }), 422);
    expect(p.errors).toEqual([expect.objectContaining({ location: 'body.conversation_id', message: 'unexpected property' })]);
    const q = expectProblem(
      await add({ input: { conversation: { messages: [{ role: 'user', content: 'x', extra: 1 }] } }, user_id: 'a' }),
      422,
    );
    expect(q.errors[0].location).toBe('body.input.conversation.messages[0].extra');
  });

  it('collects every error, with types and values', async () => {
    const p = expectProblem(await add({ input: { string: { content: ['ok', 7] } }, user_id: 42, group: null }), 422);
    const locations = p.errors.map((e: any) => e.location).sort();
    expect(locations).toEqual(['body.group', 'body.input.string.content[1]', 'body.user_id']);
    expect(p.errors.find((e: any) => e.location === 'body.user_id')).toMatchObject({ message: 'expected string', value: 42 });
  });

  it('checks RFC 3339 timestamps and minimum message counts', async () => {
    const p = expectProblem(
      await add({
        input: { conversation: { messages: [{ role: 'user', content: 'x', created_at: 'yesterday' }] } },
        user_id: 'a',
      }),
      422,
    );
    expect(p.errors[0].location).toBe('body.input.conversation.messages[0].created_at');
    const q = expectProblem(await add({ input: { conversation: { messages: [] } }, user_id: 'a' }), 422);
    expect(q.errors[0].location).toBe('body.input.conversation.messages');
  });

  it('rejects a body that is not an object', async () => {
    const p = expectProblem(await add([1, 2]), 422);
    expect(p.errors[0]).toMatchObject({ location: 'body', message: 'expected object' });
  });
});

describe('malformed, empty and oversized bodies', () => {
  it('400 for malformed JSON', async () => {
    const p = expectProblem(await h.call('POST', '/v1/memories', { raw: '{"input": ' }), 400);
    expect(p.detail).toMatch(/malformed JSON/);
  });

  it('400 for a missing body where one is required', async () => {
    expect(expectProblem(await h.call('POST', '/v1/memories/list', { raw: '' }), 400).detail).toMatch(/body is required/);
  });

  it('413 for a declared length over the limit', async () => {
    const big = JSON.stringify(text(['x'.repeat(5000)]));
    const p = expectProblem(await h.call('POST', '/v1/memories', { raw: big }), 413);
    expect(p.detail).toMatch(/4096 bytes/);
  });

  it('413 for a streamed (chunked) body that grows over the limit, and the server keeps serving', async () => {
    const chunks = Array.from({ length: 20 }, () => Buffer.from('x'.repeat(1024)));
    const res = await fetch(`${h.emu.url}/v1/memories`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: Readable.toWeb(Readable.from(chunks)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    await res.text();
    expect((await h.call('GET', '/health')).status).toBe(200);
  });
});

describe('semantic checks (400 / 422)', () => {
  it('400 for more than one input type, and for none', async () => {
    const p = expectProblem(
      await add({ input: { string: { content: ['a.'] }, pre_extracted: { items: [] } }, user_id: 'a' }),
      400,
    );
    expect(p.detail).toMatch(/more than one input type/);
    expectProblem(await add({ input: {}, user_id: 'a' }), 400);
  });

  it.each([
    ['no strings', text([])],
    ['an empty string', text(['fine.', ''])],
    ['no pre-extracted items', { input: { pre_extracted: { items: [] } }, user_id: 'a' }],
    ['a blank pre-extracted item', { input: { pre_extracted: { items: [{ content: ' ', topic: 'UserKnowledge' }] } }, user_id: 'a' }],
  ])('400 for empty content: %s', async (_n, body) => {
    expect(expectProblem(await add(body), 400).detail).toMatch(/empty content/);
  });

  it('422 for an unknown group or a wrong-case topic', async () => {
    expect(expectProblem(await add(text(['a.'], { group: 'marketing' })), 422).detail).toBe('group "marketing" not found');
    expectProblem(await add(text(['a.'], { group: 'Default' })), 422);
    const p = expectProblem(
      await add({ input: { pre_extracted: { items: [{ content: 'x', topic: 'userknowledge' }] } }, user_id: 'a' }),
      422,
    );
    expect(p.detail).toMatch(/topic "userknowledge" not found/);
    expect(p.errors[0].location).toBe('body.input.pre_extracted.items[0].topic');
  });

  it('400 for a user-scoped topic without user_id', async () => {
    const p = expectProblem(await add({ input: { string: { content: ['a.'] } } }), 400);
    expect(p.detail).toMatch(/user_id is required/);
  });

  it('400 for a missing required scope property', async () => {
    const p = expectProblem(
      await add({ input: { pre_extracted: { items: [{ content: 'Summary.', topic: 'ConversationSummary' }] } }, user_id: 'a' }),
      400,
    );
    expect(p.detail).toMatch(/property "conversation_id" is required/);
  });

  it('400 for a property key no topic of the group declares', async () => {
    const p = expectProblem(await add(text(['a.'], { properties: { tenant_id: 't1' } })), 400);
    expect(p.detail).toMatch(/unknown property "tenant_id"/);
    expectProblem(await add(text(['a.'], { group: 'digest', properties: { conversation_id: 'c' } })), 400);
  });
});

describe('search and list parameters', () => {
  beforeEach(async () => {
    await h.addText('alice', ['I like tea.']);
  });
  const search = (body: unknown) => h.call('POST', '/v1/memories/search', { body });

  it.each([0, 101, 2.5, '10'])('422 for search limit %j', async (limit) => {
    const p = expectProblem(
      await search({ query: 'tea', user_id: 'alice', retrieval_config: { retrieval_type: 'bm25', limit } }),
      422,
    );
    expect(p.errors[0].location).toBe('body.retrieval_config.limit');
  });

  it('treats limit: null as the default', async () => {
    const res = await search({ query: 'tea', user_id: 'alice', retrieval_config: { retrieval_type: 'hybrid', limit: null } });
    expect(res.status).toBe(200);
    expect((await h.call('POST', '/v1/memories/list', { body: { user_id: 'alice', limit: null } })).status).toBe(200);
  });

  it('400 for an unknown retrieval_type', async () => {
    const p = expectProblem(await search({ query: 'tea', user_id: 'alice', retrieval_config: { retrieval_type: 'magic' } }), 400);
    expect(p.detail).toMatch(/unknown retrieval_type "magic"/);
  });

  it('422 for an empty query or a list limit over 100', async () => {
    expect(expectProblem(await search({ query: '', user_id: 'alice' }), 422).errors[0].location).toBe('body.query');
    expect(
      expectProblem(await h.call('POST', '/v1/memories/list', { body: { user_id: 'alice', limit: 101 } }), 422).errors[0]
        .location,
    ).toBe('body.limit');
  });
});
