import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/api/errors.js';
import { pathSegment } from '../../src/api/client.js';
import { stripUndefined } from '../../src/api/resources/memories.js';
import { parseDuration, parseIntInRange, parseProperties, validateId } from '../../src/cli/flags.js';
import { applyScopeFlags } from '../../src/commands/memories/add.js';
import { readContent, type InputType } from '../../src/input/content.js';
import { decodeInput, invalidUtf8Offset, jsonSyntaxError, lineCol, parseJsonStrict } from '../../src/input/text.js';
import { useEmulator } from '../helpers/emulator.js';
import { KEY } from '../helpers/cli.js';

// Property tests of the input readers and the flag parsers: whatever the input, the result is
// either a request the server accepts, or a UsageError. Never a crash, never a request the
// server rejects for its shape. The number of runs is kept modest for the suite's budget;
// fast-check prints the seed of any failure so it can be replayed.

const emu = useEmulator({ runTimeMs: 2000 });

/** The outcome is a UsageError (returned), or the value; anything else fails the property. */
function usageOr<T>(f: () => T): T | UsageError {
  try {
    return f();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
}

// ---- arbitraries: near-valid API shapes, perturbed ----

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('Hello.', 'I like tea. I ride a bike!', 'Fête 🎉 漢字.', 'x') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\t\n', '\u0000', '\u001b[2J') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);
const json = fc.jsonValue({ maxDepth: 2 });
const timestamp = fc.oneof(
  fc.date({ noInvalidDate: true, min: new Date('1970-01-01'), max: new Date('2100-01-01') }).map((d) => d.toISOString()),
  fc.constantFrom('2026-12-03T10:00:00Z', '2026-12-03T10:00:00.5+02:00', '2026-02-30T00:00:00Z', '2026-12-03t10:00:00z', 'yesterday', '2026-12-03', ''),
);
const role = fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'tool', 'developer'), fc.constantFrom('robot', 'User', ''), json);
const toolCall = fc.record(
  {
    id: fc.oneof(text, json),
    type: fc.oneof(fc.constantFrom('function', 'custom', 'other'), json),
    function: fc.oneof(fc.record({ name: fc.oneof(text, json), arguments: fc.oneof(text, json) }, { requiredKeys: [] }), json),
    custom: fc.oneof(fc.record({ name: text, input: fc.oneof(text, json) }, { requiredKeys: [] }), json),
  },
  { requiredKeys: [] },
);
const content = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(fc.oneof(text, fc.record({ type: fc.constant('text'), text }), json), { maxLength: 3 }) },
  { weight: 1, arbitrary: json },
);
const message = fc.record(
  { role, content, created_at: timestamp, tool_call_id: fc.oneof(text, json), name: fc.oneof(text, json), tool_calls: fc.oneof(fc.array(toolCall, { maxLength: 2 }), json), refusal: json },
  { requiredKeys: ['role', 'content'] },
);
const keyName = fc.oneof(fc.constantFrom('conversation_id', '__proto__', 'toString', 'constructor', 'hasOwnProperty'), fc.string({ maxLength: 8 }));
const metadata = fc.oneof(fc.dictionary(keyName, json, { maxKeys: 4 }), json);
const conversation = fc.oneof(
  fc.array(message, { maxLength: 4 }),
  fc.record({ messages: fc.oneof(fc.array(message, { maxLength: 4 }), json), metadata, created_at: timestamp, updated_at: timestamp }, { requiredKeys: ['messages'] }),
);
/**
 * Documents and file texts. `scope` picks the scope pieces: `any` (topics, groups and property
 * keys that may not exist: the server may refuse them, by name) or `valid` (only ones the
 * emulator knows, so any request the CLI builds must get a 200). Shapes are perturbed either way.
 */
function files(scope: 'any' | 'valid') {
  const topic = scope === 'any' ? fc.oneof(fc.constantFrom('UserKnowledge', 'ConversationSummary', 'Digest'), text) : fc.constant('UserKnowledge');
  // A value of the wrong type (never a string: a string is a name, which the `valid` scope controls).
  const wrong = scope === 'any' ? json : fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }));
  const item = fc.record({ content: fc.oneof(text, json), topic: fc.oneof(topic, topic, wrong), tags: json }, { requiredKeys: ['content'] });
  const items = fc.oneof(fc.array(item, { maxLength: 3 }), fc.record({ items: fc.oneof(fc.array(item, { maxLength: 3 }), json) }));
  const properties =
    scope === 'any'
      ? fc.oneof(fc.dictionary(keyName, fc.oneof(text, text, json), { maxKeys: 3 }), json)
      : fc.oneof(fc.constant({}), fc.record({ conversation_id: fc.oneof(text, json) }));
  const group = scope === 'any' ? fc.oneof(fc.constantFrom('default', 'digest'), text, json) : fc.oneof(fc.constant('default'), wrong);
  const input = fc.oneof(
    fc.record({ string: fc.oneof(fc.record({ content: fc.oneof(fc.array(text, { maxLength: 3 }), json), created_at: timestamp }, { requiredKeys: ['content'] }), json) }),
    fc.record({ conversation }),
    fc.record({ pre_extracted: items }),
    fc.record({ string: fc.record({ content: fc.array(text, { maxLength: 2 }) }), conversation: fc.oneof(conversation, fc.constant(null)) }),
    json,
  );
  const body = fc.record(
    { input, user_id: fc.oneof(text, json), group, properties, root: fc.oneof(text, json), conversation_id: json },
    { requiredKeys: ['input'] },
  );
  const document = fc.oneof(conversation, items, body, fc.array(text, { maxLength: 3 }), json);
  /** A file's text: the document as JSON (with a BOM, CRLF or indentation sometimes), or anything. */
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(document, fc.constantFrom('', '\ufeff'), fc.constantFrom(0, 2), fc.boolean()).map(([d, bom, indent, crlf]) => {
        const t = JSON.stringify(d, null, indent) ?? 'null';
        return bom + (crlf ? t.replace(/\n/g, '\r\n') : t);
      }),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  );
}
const fileText = files('any');
const readingOptions = fc.record(
  { type: fc.constantFrom<InputType | undefined>(undefined, undefined, 'string', 'conversation', 'pre-extracted'), topic: fc.constantFrom(undefined, undefined, undefined, 'UserKnowledge', 'NoSuchTopic', '') },
  { requiredKeys: [] },
);

/** Rejections that are about scope (which the server decides), not the request's shape. */
const SCOPE = /not found|user_id is required|property "[^"]*" is required|unknown property/;

async function post(body: unknown): Promise<{ status: number; problem: { detail?: string; errors?: unknown[] } }> {
  const res = await fetch(`${emu.emu.url}/v1/memories`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, problem: (await res.json()) as { detail?: string } };
}

// One seed for the file, printed with any coverage failure; FC_SEED=<n> replays a run exactly.
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : (Math.random() * 2 ** 31) | 0;
let runs = 0;
const counted = <T>(n: number) => ((runs += n), { numRuns: n, seed: SEED } as fc.Parameters<T>);

describe('readContent → the emulator: a request it accepts, or a UsageError', () => {
  it('any file text, with any --type/--topic: never a crash, never a shape the server rejects', async () => {
    const seen = { usage: 0, accepted: 0, scope: 0 };
    await fc.assert(
      fc.asyncProperty(fileText, readingOptions, fc.boolean(), async (t, o, withUser) => {
        const r = usageOr(() => readContent(decodeInput(Buffer.from(t, 'utf8'), 'f.json'), 'f.json', { ...o, warn: () => {} }));
        if (r instanceof UsageError) {
          expect(r.message).not.toMatch(/\n/); // one line
          seen.usage++;
          return;
        }
        const built = usageOr(() => applyScopeFlags({ ...(r.body ?? {}), input: r.input }, withUser ? { userId: 'prop-user' } : {}));
        if (built instanceof UsageError) return;
        const sent = stripUndefined(built);
        const { status, problem } = await post(sent);
        if (status !== 200) {
          expect(status, JSON.stringify({ sent, problem })).toBeOneOf([400, 422]);
          expect(problem.detail, JSON.stringify({ sent, problem })).toMatch(SCOPE);
          seen.scope++;
        } else seen.accepted++;
        // Nothing the file said is silently lost: scope properties and metadata go out as read.
        let doc: unknown;
        try {
          doc = JSON.parse(t.replace(/^\ufeff/, ''));
        } catch {
          doc = undefined;
        }
        if (doc && typeof doc === 'object' && !Array.isArray(doc) && r.kind === 'request body') {
          const props = (doc as { properties?: unknown }).properties;
          if (props && typeof props === 'object') expect(JSON.stringify(JSON.parse(JSON.stringify(sent)).properties)).toBe(JSON.stringify(props));
        }
        if (r.kind === 'conversation' && doc && typeof doc === 'object' && !Array.isArray(doc)) {
          const md = (doc as { metadata?: unknown }).metadata;
          if (md && typeof md === 'object' && !Array.isArray(md)) {
            expect(JSON.stringify(JSON.parse(JSON.stringify(sent)).input.conversation.metadata)).toBe(JSON.stringify(md));
          }
        }
      }),
      counted(400),
    );
    // The generator reaches the server often enough for the property to mean something. The
    // counts are random: over 12 seeds, accepted was 41-53 of 400 and usage 253-281, so the
    // floors sit far below (about 4 standard deviations) to test coverage, not luck.
    const why = JSON.stringify({ ...seen, seed: SEED });
    expect(seen.accepted, why).toBeGreaterThanOrEqual(20);
    expect(seen.usage, why).toBeGreaterThanOrEqual(150);
  });

  it('scope-valid files (only topics, groups and properties the emulator has): every request built gets a 200', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(files('valid'), fc.constantFrom<InputType | undefined>(undefined, undefined, 'string', 'conversation', 'pre-extracted'), async (t, type) => {
        const r = usageOr(() => readContent(decodeInput(Buffer.from(t, 'utf8'), 'v.json'), 'v.json', { type, warn: () => {} }));
        if (r instanceof UsageError) return;
        const built = usageOr(() => applyScopeFlags({ ...(r.body ?? {}), input: r.input }, { userId: 'prop-valid' }));
        if (built instanceof UsageError) return;
        const sent = stripUndefined(built);
        const { status, problem } = await post(sent);
        expect(status, JSON.stringify({ sent, problem })).toBe(200);
        accepted++;
      }),
      counted(300),
    );
    // Over 12 seeds 90-105 of 300 were accepted; the floor tests coverage, not luck.
    expect(accepted, `seed ${SEED}`).toBeGreaterThanOrEqual(50);
  });

  it('fidelity: a valid file is sent as written, whatever its keys are called (__proto__, toString, …)', async () => {
    const str = fc.string({ maxLength: 6 });
    const validBody = fc.record({
      input: fc.oneof(
        fc.record({ string: fc.record({ content: fc.array(fc.constantFrom('I like tea.', 'Fête 🎉.'), { minLength: 1, maxLength: 2 }) }) }),
        fc.record({ conversation: fc.record({ messages: fc.constant([{ role: 'user', content: 'I like tea.' }]), metadata: fc.dictionary(keyName, json, { maxKeys: 4 }) }) }),
      ),
      user_id: fc.constant('fidelity'),
      properties: fc.dictionary(keyName, str, { minKeys: 1, maxKeys: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(validBody, async (doc) => {
        const t = JSON.stringify(doc);
        const r = readContent(t, 'b.json');
        const sent = JSON.parse(JSON.stringify(stripUndefined({ ...(r.body ?? {}), input: r.input })));
        expect(JSON.stringify(sent.properties)).toBe(JSON.stringify(doc.properties));
        if ('conversation' in doc.input) expect(JSON.stringify(sent.input.conversation.metadata)).toBe(JSON.stringify(doc.input.conversation.metadata));
        const { status, problem } = await post(sent);
        // The emulator's groups declare only conversation_id: any other key is refused, by name.
        const unknown = Object.keys(doc.properties).find((k) => k !== 'conversation_id');
        if (unknown !== undefined) {
          expect(status).toBe(400);
          expect(problem.detail).toContain('unknown property');
        } else expect(status, JSON.stringify(problem)).toBe(200);
      }),
      counted(200),
    );
  });

  it('the CLI end to end (stdin): exit 0, or 2 with nothing sent, or 6 for scope only; never 1 or 7', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fileText.map((t) => Buffer.from(t, 'utf8')), fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b))), async (bytes) => {
        const before = emu.emu.stats().requests;
        const r = await emu.run(['memories', 'add', '--file', '-', '--user-id', 'prop-cli', '-q'], { stdin: bytes });
        expect(r.code, r.stderr).toBeOneOf([0, 2, 6]);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        if (r.code === 2) {
          expect(emu.emu.stats().requests, r.stderr).toBe(before);
          expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
        }
        if (r.code === 6) expect(r.stderr).toMatch(SCOPE);
        if (r.code === 0) expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
      }),
      counted(80),
    );
  });

  it('--topic lines: every item is a trimmed, non-empty line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (t) => {
        const r = usageOr(() => readContent(t, 'n.txt', { topic: 'UserKnowledge' }));
        // Refused only when empty, or when it is JSON (which --topic would store as raw text).
        if (r instanceof UsageError) { expect(t.trim() === '' || /^\s*[[{]/.test(t)).toBe(true); return; }
        const items = (r.input as { pre_extracted: { items: Array<{ content: string }> } }).pre_extracted.items;
        expect(items.length).toBeGreaterThan(0);
        for (const it of items) {
          expect(it.content).toBe(it.content.trim());
          expect(it.content).not.toBe('');
          expect(it.content).not.toMatch(/[\r\n]/);
        }
      }),
      counted(300),
    );
  });
});

describe('text.ts', () => {
  const jsonish = fc.oneof(
    fc.json({ maxDepth: 3 }),
    fc.tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.constantFrom('', ',', '"', '{', '}', '[', ']', ':', '\\', '0', 'tru', "'", ' ', '\n', '\u0001', '-', '.', 'e')).map(([j, at, c]) => {
      const i = at % (j.length + 1);
      return at % 3 === 0 ? j.slice(0, i) + c + j.slice(i) : at % 3 === 1 ? j.slice(0, i) + c + j.slice(i + 1) : j.slice(0, i);
    }),
    fc.string({ unit: fc.constantFrom(...'{}[]:,"\\0123456789.eE+-tfnrul \n\t'.split('')), maxLength: 24 }),
  );

  it('jsonSyntaxError agrees with JSON.parse on every text', () => {
    fc.assert(
      fc.property(jsonish, (t) => {
        let ok = true;
        try {
          JSON.parse(t);
        } catch {
          ok = false;
        }
        const e = jsonSyntaxError(t);
        expect(e === undefined, `${JSON.stringify(t)} → ${JSON.stringify(e)}`).toBe(ok);
        if (e) expect(e.offset).toBeLessThanOrEqual(t.length);
      }),
      counted(3000),
    );
  });

  it('parseJsonStrict: a value, or a UsageError naming a real line and column', () => {
    fc.assert(
      fc.property(jsonish, fc.boolean(), (t, crlf) => {
        const s = crlf ? t.replace(/\n/g, '\r\n') : t;
        const r = usageOr(() => parseJsonStrict(s, 'in.json'));
        if (!(r instanceof UsageError)) return;
        const m = /^in\.json:(\d+):(\d+): invalid JSON: \S/.exec(r.message);
        expect(m, r.message).not.toBeNull();
        const lines = s.split('\n');
        const line = Number(m![1]);
        expect(line).toBeGreaterThanOrEqual(1);
        expect(line).toBeLessThanOrEqual(lines.length);
        expect(Number(m![2])).toBeLessThanOrEqual(lines[line - 1]!.length + 1);
      }),
      counted(1500),
    );
  });

  it('lineCol maps every offset back to itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '\n', 'é', '\r'), maxLength: 40 }), fc.nat(), (t, k) => {
        const off = k % (t.length + 1);
        const { line, col } = lineCol(t, off);
        const starts = [0, ...[...t].flatMap((c, i) => (c === '\n' ? [i + 1] : []))];
        expect(starts[line - 1]! + col - 1).toBe(off);
      }),
      counted(500),
    );
  });

  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 24 }),
    fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 4 }).map((s) => Buffer.from(s)), fc.uint8Array({ minLength: 1, maxLength: 2 }).map((b) => Buffer.from(b))), { maxLength: 6 }).map((parts) => new Uint8Array(Buffer.concat(parts))),
  );

  it('invalidUtf8Offset: -1 exactly for valid UTF-8, else the end of the longest valid prefix', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const off = invalidUtf8Offset(b);
        if (isUtf8(b)) { expect(off).toBe(-1); return; }
        let longest = 0;
        for (let p = 0; p <= b.length; p++) if (isUtf8(b.subarray(0, p))) longest = p;
        expect(off).toBe(longest);
      }),
      counted(2000),
    );
  });

  it('decodeInput: the exact text (BOM dropped), or a UsageError with the byte offset', () => {
    fc.assert(
      fc.property(bytes, fc.boolean(), (b, bom) => {
        const buf = Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(b)]);
        const r = usageOr(() => decodeInput(buf, 'in'));
        if (r instanceof UsageError) {
          expect(r.message).toMatch(new RegExp(`^in: not valid UTF-8 at byte ${invalidUtf8Offset(buf)} \\(0x[0-9a-f]{2}\\)`));
          return;
        }
        expect(Buffer.from((bom ? '\ufeff' : '') + r, 'utf8').equals(buf)).toBe(true);
      }),
      counted(1000),
    );
  });
});

describe('flags.ts', () => {
  const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const number = fc.oneof(fc.nat({ max: 100_000 }).map(String), fc.tuple(fc.nat({ max: 999 }), fc.nat({ max: 999 })).map(([a, b]) => `${a}.${b}`));

  /** Whole ms rounded up (only an exact 0 is 0), as the parser documents. */
  const roundUpMs = (exact: number) => Math.max(0, Math.ceil(exact - 1e-6));

  it('parseDuration: the sum of its parts in ms (rounded up), "too long" past a year, or a UsageError; never anything else', () => {
    const valid = fc.oneof(
      number.map((n) => [n, roundUpMs(Number(n) * 1000)] as const),
      fc.array(fc.tuple(number, fc.constantFrom('ms', 's', 'm', 'h')), { minLength: 1, maxLength: 4 }).map((parts) => {
        let total = 0;
        for (const [n, u] of parts) total += Number(n) * UNIT[u]!;
        return [parts.map(([n, u]) => n + u).join(''), roundUpMs(total)] as const;
      }),
    );
    fc.assert(
      fc.property(valid, ([s, ms]) => {
        const r = usageOr(() => parseDuration(s, '--timeout'));
        if (ms > 365 * 24 * 3_600_000) expect(String(r)).toMatch(/too long/);
        else expect(r).toBe(ms);
      }),
      counted(1000),
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: fc.constantFrom(...'0123456789.msh -+e'.split('')), maxLength: 10 })), (s) => {
        const r = usageOr(() => parseDuration(s, '--timeout'));
        if (r instanceof UsageError) { expect(r.message).toMatch(/--timeout/); return; }
        expect(Number.isInteger(r) && r >= 0 && r <= 365 * 24 * 3_600_000).toBe(true);
      }),
      counted(1000),
    );
  });

  it('parseIntInRange: an integer in range, or a UsageError naming the flag', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -5, max: 200 }).map(String), fc.string({ maxLength: 6 })), (s) => {
        const r = usageOr(() => parseIntInRange(s, '--limit', 1, 100));
        if (r instanceof UsageError) { expect(r.message).toMatch(/^--limit must be/); return; }
        expect(Number.isInteger(r) && r >= 1 && r <= 100).toBe(true);
        expect(r).toBe(Number(s));
      }),
      counted(1000),
    );
  });

  it('validateId + pathSegment: a usage error, or exactly one path segment that decodes back to the id', () => {
    const id = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: fc.constantFrom('.', '/', '%', '?', '#', '2', 'e', 'F', ' ', '\\', '\u0000', 'é'), maxLength: 8 }));
    fc.assert(
      fc.property(id, (s) => {
        const r = usageOr(() => validateId(s, 'run id'));
        if (r instanceof UsageError) { expect(r.message).toMatch(/run id/); return; }
        const seg = pathSegment(r);
        expect(seg).not.toMatch(/[/?#]/);
        expect(decodeURIComponent(seg)).toBe(s);
        const url = new URL(`http://127.0.0.1:4680/v1/runs/${seg}`);
        expect(url.pathname).toBe(`/v1/runs/${seg}`); // no dot segment, nothing moved the route
      }),
      counted(2000),
    );
  });

  it('parseProperties: every key=value kept as given (even __proto__ or toString), or a UsageError', () => {
    const pair = fc.tuple(keyName, fc.string({ maxLength: 6 }), fc.boolean()).map(([k, v, eq]) => (eq ? `${k}=${v}` : k + v));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 5 }), (pairs) => {
        const r = usageOr(() => parseProperties(pairs));
        if (r instanceof UsageError) return;
        if (pairs.length === 0) { expect(r).toBeUndefined(); return; }
        const want = new Map(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
        expect(Object.keys(r!).sort()).toEqual([...want.keys()].sort());
        for (const [k, v] of want) expect(Object.getOwnPropertyDescriptor(r, k)?.value).toBe(v);
        expect(JSON.parse(JSON.stringify(r))).toEqual(JSON.parse(JSON.stringify(Object.fromEntries(want))));
      }),
      counted(1000),
    );
  });
});

describe('the property budget', () => {
  it('adds up (reported by the issue)', () => {
    expect(runs).toBeGreaterThan(0);
  });
});
