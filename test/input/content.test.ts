import { describe, expect, it } from 'vitest';
import { readContent } from '../../src/input/content.js';
import { decodeInput, invalidUtf8Offset, parseJsonStrict } from '../../src/input/text.js';
import { UsageError } from '../../src/api/errors.js';

const conv = [
  { role: 'developer', content: 'You are a travel assistant.' },
  { role: 'user', content: 'Find me a hotel in Alfama.' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'tc1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
  { role: 'tool', tool_call_id: 'tc1', name: 'search', content: '[]' },
];

describe('readContent: the four readings', () => {
  it('reads an array of messages as a conversation', () => {
    const r = readContent(JSON.stringify(conv), 'c.json');
    expect(r.kind).toBe('conversation');
    expect('conversation' in r.input && r.input.conversation.messages).toHaveLength(4);
    // null content of a tool-call turn is sent as "", never null
    expect('conversation' in r.input && r.input.conversation.messages[2]!.content).toBe('');
  });
  it('reads {messages, metadata} as a conversation', () => {
    const r = readContent(JSON.stringify({ messages: conv, metadata: { s: 1 } }), 'c.json');
    expect(r.input).toMatchObject({ conversation: { metadata: { s: 1 } } });
  });
  it('reads pre-extracted items, bare or wrapped', () => {
    const items = [{ content: 'User likes tea', topic: 'UserKnowledge' }];
    expect(readContent(JSON.stringify(items), 'p.json').input).toEqual({ pre_extracted: { items } });
    expect(readContent(JSON.stringify({ items }), 'p.json').kind).toBe('pre-extracted');
  });
  it('reads a full request body with its scope', () => {
    const r = readContent(JSON.stringify({ input: { string: { content: ['a'] } }, user_id: 'bob', group: 'g' }), 'b.json');
    expect(r.kind).toBe('request body');
    expect(r.body).toEqual({ user_id: 'bob', group: 'g' });
  });
  it('reads anything else as plain text, CRLF normalised', () => {
    const r = readContent('I like tea.\r\nAnd cake.\r\n', 'notes.txt');
    expect(r.input).toEqual({ string: { content: ['I like tea.\nAnd cake.'] } });
  });
  it('turns text lines into items with --topic', () => {
    const r = readContent('a\n\nb\n', 'n.txt', { topic: 'T' });
    expect(r.input).toEqual({ pre_extracted: { items: [{ content: 'a', topic: 'T' }, { content: 'b', topic: 'T' }] } });
  });
  it('--type string sends JSON-looking text as text', () => {
    expect(readContent('[1, 2', 'x', { type: 'string' }).input).toEqual({ string: { content: ['[1, 2'] } });
  });
});

describe('readContent: errors name the file and JSON path', () => {
  const msg = (text: string, o = {}) => {
    try {
      readContent(text, 'conv.json', o);
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  it('bad role', () => {
    const bad = [...conv];
    bad[3] = { role: 'robot', content: 'x' } as never;
    expect(msg(JSON.stringify(bad))).toBe(
      'conv.json: [3].role: expected one of user, assistant, system, tool, developer, got "robot"',
    );
  });
  it('messages path inside an object', () => {
    expect(msg(JSON.stringify({ messages: [{ role: 'user', content: '' }] }))).toMatch(/^conv\.json: messages\[0\]\.content: expected non-empty text/);
  });
  it('syntax errors give line and column', () => {
    expect(msg('{\n  "messages": [\n    {"role": "user",, "content": "x"}\n  ]\n}')).toMatch(/^conv\.json:3:21: invalid JSON/);
  });
  it('truncated JSON', () => {
    expect(msg('[{"role": "user", "content": "x"}')).toMatch(/^conv\.json:1:\d+: invalid JSON: unexpected end of input/);
  });
  it('empty input', () => {
    expect(msg('  \n ')).toMatch(/conv\.json is empty/);
  });
  it('more than one input type in a body', () => {
    expect(msg(JSON.stringify({ input: { string: { content: ['a'] }, pre_extracted: { items: [] } } }))).toMatch(
      /input: expected exactly one of string, conversation, pre_extracted/,
    );
  });
  it('unknown shapes say what is expected', () => {
    expect(msg('{"hello": 1}')).toMatch(/expected a conversation/);
    expect(msg('[]')).toMatch(/at least one/);
  });
  it('bad timestamps', () => {
    expect(msg(JSON.stringify([{ role: 'user', content: 'x', created_at: 'yesterday' }]))).toMatch(/\[0\]\.created_at: expected an RFC 3339/);
  });
  it('drops unknown OpenAI fields with one warning', () => {
    const warnings: string[] = [];
    const r = readContent(JSON.stringify([{ role: 'user', content: 'x', refusal: 'no', annotations: [] }]), 'c.json', { warn: (m) => warnings.push(m) });
    expect(JSON.stringify(r.input)).not.toMatch(/refusal|annotations/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/\[0\]\.refusal, \[0\]\.annotations/);
  });
});

describe('decoding', () => {
  it('strips a BOM', () => {
    expect(decodeInput(Buffer.from('\ufeffhello'), 'f')).toBe('hello');
  });
  it('rejects non-UTF-8 with the byte offset', () => {
    const buf = Buffer.concat([Buffer.from('héllo '), Buffer.from([0xe9, 0x41])]);
    expect(invalidUtf8Offset(buf)).toBe(7);
    expect(() => decodeInput(buf, 'latin1.txt')).toThrow('latin1.txt: not valid UTF-8 at byte 7 (0xe9)');
  });
  it('rejects truncated and overlong sequences and surrogates', () => {
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1);
    expect(invalidUtf8Offset(Buffer.from([0xc0, 0x80]))).toBe(0);
    expect(invalidUtf8Offset(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0);
    expect(invalidUtf8Offset(Buffer.from('ok ✓ 𝄞'))).toBe(-1);
  });
  it('parseJsonStrict reports position on line 1', () => {
    expect(() => parseJsonStrict('{"a" 1}', 'x.json')).toThrow(/^x\.json:1:\d+: invalid JSON/);
  });
});

describe('--topic with a JSON file', () => {
  it('is refused, not sent as raw JSON text', () => {
    expect(() => readContent('[{"role": "user", "content": "x"}]', 'conv.json', { topic: 'UserKnowledge' })).toThrow(
      /^conv\.json is JSON, but --topic turns lines of plain text into items; drop --topic/,
    );
  });
  it('--type pre-extracted keeps the lines as text on purpose', () => {
    const r = readContent('{"not": "parsed"}', 'lines.txt', { topic: 'T', type: 'pre-extracted' });
    expect(r.input).toEqual({ pre_extracted: { items: [{ content: '{"not": "parsed"}', topic: 'T' }] } });
  });
});
