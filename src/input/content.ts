import { UsageError } from '../api/errors.js';
import {
  isRfc3339,
  ROLES,
  type ConversationInput,
  type CreateMemoryRequest,
  type Input,
  type MessageInput,
  type PreExtractedItem,
  type ToolCallInput,
} from '../api/types.js';
import { isObject } from '../core/json.js';
import { parseJsonStrict } from './text.js';

export type InputType = 'string' | 'conversation' | 'pre-extracted';
export const INPUT_TYPES: readonly InputType[] = ['string', 'conversation', 'pre-extracted'];

/** What a file or stdin held, once read. */
export interface Reading {
  input: Input;
  /** Scope fields carried by a full request body (`{input, user_id, …}`). */
  body?: Omit<CreateMemoryRequest, 'input'>;
  /** Which of the contract's readings applied, for messages. */
  kind: 'conversation' | 'pre-extracted' | 'request body' | 'plain text' | 'text lines';
}

/** A shape problem at a JSON path: `messages[3].role: expected one of …`. */
class Shape {
  readonly warnings: string[] = [];
  constructor(readonly source: string) {}
  fail(path: string, expected: string, got?: unknown): never {
    const suffix = got === undefined ? '' : `, got ${describe(got)}`;
    throw new UsageError(`${this.source}: ${path || '(top level)'}: expected ${expected}${suffix}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a string` : JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function str(s: Shape, v: unknown, path: string, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof v !== 'string') s.fail(path, 'a string', v);
  if (opts.nonEmpty && v.trim() === '') s.fail(path, 'non-empty text');
  return v;
}

function rfc3339(s: Shape, v: unknown, path: string): string {
  const t = str(s, v, path);
  if (!isRfc3339(t)) {
    s.fail(path, 'an RFC 3339 timestamp like 2026-12-03T10:00:00Z', v);
  }
  return t;
}

/** Keys we forward; others (OpenAI extras such as `refusal`) are dropped with one warning. */
function known(s: Shape, o: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k) && o[k] !== null && o[k] !== undefined) s.warnings.push(`${path}.${k}`);
  }
}

/** OpenAI content may be a string, null (tool-call turns) or an array of parts. */
function messageContent(s: Shape, v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    return v
      .map((part, i) => {
        if (typeof part === 'string') return part;
        if (isObject(part) && typeof part.text === 'string') return part.text;
        return s.fail(`${path}[${i}]`, 'a text part ({"type": "text", "text": …})', part);
      })
      .join('\n');
  }
  return s.fail(path, 'a string', v);
}

function toolCall(s: Shape, v: unknown, path: string): ToolCallInput {
  if (!isObject(v)) s.fail(path, 'a tool call object', v);
  known(s, v, path, ['id', 'type', 'function', 'custom']);
  const id = str(s, v.id, `${path}.id`, { nonEmpty: true });
  const type = v.type ?? (v.custom ? 'custom' : 'function');
  if (type !== 'function' && type !== 'custom') s.fail(`${path}.type`, 'one of function, custom', type);
  const out: ToolCallInput = { id, type };
  if (type === 'function') {
    const f = v.function;
    if (!isObject(f)) s.fail(`${path}.function`, 'an object with name and arguments', f);
    const args = f.arguments === undefined ? '{}' : typeof f.arguments === 'string' ? f.arguments : JSON.stringify(f.arguments);
    out.function = { name: str(s, f.name, `${path}.function.name`, { nonEmpty: true }), arguments: args };
  } else {
    const c = v.custom;
    if (!isObject(c)) s.fail(`${path}.custom`, 'an object with name and input', c);
    out.custom = { name: str(s, c.name, `${path}.custom.name`, { nonEmpty: true }), input: str(s, c.input ?? '', `${path}.custom.input`) };
  }
  return out;
}

function message(s: Shape, v: unknown, path: string): MessageInput {
  if (!isObject(v)) s.fail(path, 'a message object with role and content', v);
  known(s, v, path, ['role', 'content', 'created_at', 'tool_call_id', 'name', 'tool_calls']);
  const role = v.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    s.fail(`${path}.role`, `one of ${ROLES.join(', ')}`, role);
  }
  const m: MessageInput = { role: role as MessageInput['role'] };
  const content = messageContent(s, v.content, `${path}.content`);
  const calls = v.tool_calls === undefined || v.tool_calls === null ? undefined : v.tool_calls;
  if (calls !== undefined) {
    if (!Array.isArray(calls)) s.fail(`${path}.tool_calls`, 'an array', calls);
    if (role !== 'assistant') s.fail(`${path}.tool_calls`, 'tool calls only on assistant messages');
    m.tool_calls = calls.map((c, i) => toolCall(s, c, `${path}.tool_calls[${i}]`));
  }
  if (content === undefined || content.trim() === '') {
    if (!(role === 'assistant' && m.tool_calls && m.tool_calls.length > 0)) {
      s.fail(`${path}.content`, role === 'assistant' ? 'non-empty text (or tool_calls)' : 'non-empty text', v.content ?? undefined);
    }
  }
  m.content = content ?? '';
  if (v.created_at !== undefined && v.created_at !== null) m.created_at = rfc3339(s, v.created_at, `${path}.created_at`);
  if (v.tool_call_id !== undefined && v.tool_call_id !== null) m.tool_call_id = str(s, v.tool_call_id, `${path}.tool_call_id`);
  if (v.name !== undefined && v.name !== null) m.name = str(s, v.name, `${path}.name`);
  return m;
}

function conversation(s: Shape, v: unknown, path: string): ConversationInput {
  const obj = Array.isArray(v) ? { messages: v } : v;
  if (!isObject(obj)) s.fail(path, 'a conversation: an array of messages or {"messages": […]}', v);
  known(s, obj, path || '$', ['messages', 'metadata', 'created_at', 'updated_at']);
  const p = (k: string) => (path ? `${path}.${k}` : k);
  const msgs = obj.messages;
  // A bare array is the file's top level: its paths are [i], not messages[i].
  const mp = Array.isArray(v) ? path : p('messages');
  if (!Array.isArray(msgs)) s.fail(mp, 'an array of messages', msgs);
  if (msgs.length === 0) s.fail(mp, 'at least one message');
  const conv: ConversationInput = { messages: msgs.map((m, i) => message(s, m, `${mp}[${i}]`)) };
  if (obj.metadata !== undefined && obj.metadata !== null) {
    if (!isObject(obj.metadata)) s.fail(p('metadata'), 'an object', obj.metadata);
    conv.metadata = obj.metadata;
  }
  if (obj.created_at != null) conv.created_at = rfc3339(s, obj.created_at, p('created_at'));
  if (obj.updated_at != null) conv.updated_at = rfc3339(s, obj.updated_at, p('updated_at'));
  return conv;
}

function items(s: Shape, v: unknown, path: string): PreExtractedItem[] {
  const list = isObject(v) ? v.items : v;
  const lp = isObject(v) ? (path ? `${path}.items` : 'items') : path;
  if (isObject(v)) known(s, v, path || '$', ['items']);
  if (!Array.isArray(list)) s.fail(lp, 'an array of {"content", "topic"} items', list);
  if (list.length === 0) s.fail(lp, 'at least one item');
  return list.map((it, i) => {
    const ip = `${lp}[${i}]`;
    if (!isObject(it)) s.fail(ip, 'an object with content and topic', it);
    known(s, it, ip, ['content', 'topic']);
    return { content: str(s, it.content, `${ip}.content`, { nonEmpty: true }), topic: str(s, it.topic, `${ip}.topic`, { nonEmpty: true }) };
  });
}

function stringContent(s: Shape, v: unknown, path: string): string[] {
  if (!Array.isArray(v)) s.fail(path, 'an array of strings', v);
  if (v.length === 0) s.fail(path, 'at least one string');
  return v.map((x, i) => str(s, x, `${path}[${i}]`, { nonEmpty: true }));
}

function input(s: Shape, v: unknown, path: string): Input {
  if (!isObject(v)) s.fail(path, 'an object with one of string, conversation, pre_extracted', v);
  const kinds = ['string', 'conversation', 'pre_extracted'].filter((k) => v[k] !== undefined && v[k] !== null);
  if (kinds.length !== 1) s.fail(path, `exactly one of string, conversation, pre_extracted (found ${kinds.length})`);
  known(s, v, path, ['string', 'conversation', 'pre_extracted']);
  const k = kinds[0]!;
  if (k === 'conversation') return { conversation: conversation(s, v.conversation, `${path}.conversation`) };
  if (k === 'pre_extracted') return { pre_extracted: { items: items(s, v.pre_extracted, `${path}.pre_extracted`) } };
  const sv = v.string;
  if (!isObject(sv)) s.fail(`${path}.string`, 'an object {"content": [strings]}', sv);
  known(s, sv, `${path}.string`, ['content', 'created_at', 'updated_at']);
  const out: { content: string[]; created_at?: string; updated_at?: string } = {
    content: stringContent(s, sv.content, `${path}.string.content`),
  };
  if (sv.created_at != null) out.created_at = rfc3339(s, sv.created_at, `${path}.string.created_at`);
  if (sv.updated_at != null) out.updated_at = rfc3339(s, sv.updated_at, `${path}.string.updated_at`);
  return { string: out };
}

function requestBody(s: Shape, v: Record<string, unknown>): Reading {
  known(s, v, '$', ['input', 'user_id', 'group', 'properties', 'root']);
  const body: Omit<CreateMemoryRequest, 'input'> = {};
  if (v.user_id != null) body.user_id = str(s, v.user_id, 'user_id', { nonEmpty: true });
  if (v.group != null) body.group = str(s, v.group, 'group', { nonEmpty: true });
  if (v.root != null) body.root = str(s, v.root, 'root', { nonEmpty: true });
  if (v.properties != null) {
    if (!isObject(v.properties)) s.fail('properties', 'an object of string values', v.properties);
    // Built with defined (not assigned) keys, so a key such as `__proto__` is kept, not swallowed.
    body.properties = Object.fromEntries(Object.entries(v.properties).map(([k, val]) => [k, str(s, val, `properties.${k}`)]));
  }
  return { input: input(s, v.input, 'input'), body, kind: 'request body' };
}

/**
 * Read the contract's four shapes of a file: JSON conversation, JSON pre-extracted items, a
 * full request body, or plain text. `type` forces a reading; `topic` turns text lines into
 * pre-extracted items. Throws a UsageError naming the file and JSON path; warns about
 * dropped fields through `warn`.
 */
export function readContent(
  text: string,
  source: string,
  opts: { type?: InputType; topic?: string; warn?: (m: string) => void } = {},
): Reading {
  const s = new Shape(source);
  const finish = (r: Reading): Reading => {
    if (s.warnings.length > 0) {
      const shown = s.warnings.slice(0, 5).join(', ');
      opts.warn?.(
        `${source}: ignoring field${s.warnings.length > 1 ? 's' : ''} the API does not accept: ${shown}${s.warnings.length > 5 ? `, … ${s.warnings.length - 5} more` : ''}`,
      );
    }
    return r;
  };
  if (text.trim() === '') throw new UsageError(`${source} is empty`, 'give some content to add');
  const looksJson = /^\s*[[{]/.test(text);
  if (opts.topic !== undefined) {
    if (opts.type !== undefined && opts.type !== 'pre-extracted') {
      throw new UsageError(`--topic only goes with plain text (pre-extracted items), not --type ${opts.type}`);
    }
    // A JSON file with --topic would become memories made of raw JSON text.
    if (looksJson && opts.type === undefined) {
      throw new UsageError(
        `${source} is JSON, but --topic turns lines of plain text into items`,
        'drop --topic (give each item its own "topic" in the JSON), or pass --type pre-extracted to keep the lines as text',
      );
    }
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
    return { input: { pre_extracted: { items: lines.map((content) => ({ content, topic: opts.topic! })) } }, kind: 'text lines' };
  }
  if (opts.type === 'string' || (!looksJson && opts.type === undefined)) {
    return { input: { string: { content: [text.replace(/\r\n/g, '\n').trim()] } }, kind: 'plain text' };
  }
  if (!looksJson) {
    throw new UsageError(`${source}: --type ${opts.type} needs JSON, but the file is plain text`, 'drop --type to send it as text');
  }
  const v = parseJsonStrict(text, source);
  if (opts.type === 'conversation') return finish({ input: { conversation: conversation(s, v, '') }, kind: 'conversation' });
  if (opts.type === 'pre-extracted') return finish({ input: { pre_extracted: { items: items(s, v, '') } }, kind: 'pre-extracted' });
  if (isObject(v)) {
    if ('input' in v) return finish(requestBody(s, v));
    if ('messages' in v) return finish({ input: { conversation: conversation(s, v, '') }, kind: 'conversation' });
    if ('items' in v) return finish({ input: { pre_extracted: { items: items(s, v, '') } }, kind: 'pre-extracted' });
    s.fail('', 'a conversation {"messages": […]}, pre-extracted {"items": […]} or a request body {"input": …}', v);
  }
  if (Array.isArray(v)) {
    if (v.length === 0) s.fail('', 'at least one message or item', v);
    const first = v[0];
    if (isObject(first) && 'role' in first) return finish({ input: { conversation: conversation(s, v, '') }, kind: 'conversation' });
    if (isObject(first) && 'topic' in first) return finish({ input: { pre_extracted: { items: items(s, v, '') } }, kind: 'pre-extracted' });
    if (typeof first === 'string') return { input: { string: { content: stringContent(s, v, '') } }, kind: 'plain text' };
    s.fail('[0]', 'a message (with "role"), an item (with "content" and "topic") or a string', first);
  }
  return s.fail('', 'a JSON object or array', v);
}
