import { isRfc3339, ROLES } from '../api/types.js';
import { isObject } from '../core/json.js';
import { HttpProblem, type ErrorDetail } from './http.js';
import { isUUID } from './ids.js';

/**
 * A small structural validator for request bodies: the subset of JSON Schema the Engram
 * request schemas use, with `additionalProperties: false` on every object. Failures become a
 * 422 problem document whose `errors[]` name each location (`body.input.string.content[0]`).
 */
export type Schema =
  | { kind: 'string'; minLength?: number; enum?: readonly string[]; format?: 'date-time' }
  | { kind: 'integer'; minimum?: number; maximum?: number; nullable?: boolean }
  | { kind: 'boolean' }
  | { kind: 'object'; properties: Record<string, Schema>; required?: readonly string[] }
  /** An object with free keys whose values all match `values`. */
  | { kind: 'map'; values: Schema }
  | { kind: 'array'; items: Schema; minItems?: number }
  /** One of several schemas, chosen by the JSON type of the value. */
  | { kind: 'either'; options: readonly Schema[] }
  | { kind: 'nullable'; inner: Schema }
  | { kind: 'any' };

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** The JSON type a schema accepts (for `either`), as in an error message. */
function schemaType(s: Schema): string {
  switch (s.kind) {
    case 'map':
      return 'object';
    case 'either':
      return s.options.map(schemaType).join(' or ');
    case 'nullable':
      return `${schemaType(s.inner)} or null`;
    default:
      return s.kind;
  }
}

function accepts(s: Schema, v: unknown): boolean {
  const t = jsonType(v);
  switch (s.kind) {
    case 'any':
      return true;
    case 'nullable':
      return t === 'null' || accepts(s.inner, v);
    case 'either':
      return s.options.some((o) => accepts(o, v));
    case 'map':
      return t === 'object';
    default:
      return t === s.kind;
  }
}

function check(s: Schema, v: unknown, loc: string, out: ErrorDetail[]): void {
  switch (s.kind) {
    case 'any':
      return;
    case 'nullable':
      if (v !== null) check(s.inner, v, loc, out);
      return;
    case 'either': {
      const pick = s.options.find((o) => accepts(o, v));
      if (!pick) out.push({ location: loc, message: `expected ${schemaType(s)}`, value: v });
      else check(pick, v, loc, out);
      return;
    }
    case 'string':
      if (typeof v !== 'string') return void out.push({ location: loc, message: 'expected string', value: v });
      if (s.minLength !== undefined && v.length < s.minLength)
        out.push({ location: loc, message: `expected length >= ${s.minLength}`, value: v });
      if (s.enum && !s.enum.includes(v))
        out.push({ location: loc, message: `expected value to be one of "${s.enum.join(', ')}"`, value: v });
      if (s.format === 'date-time' && !isRfc3339(v))
        out.push({ location: loc, message: 'expected string to be RFC 3339 date-time', value: v });
      return;
    case 'integer':
      if (v === null && s.nullable) return;
      if (jsonType(v) !== 'integer') return void out.push({ location: loc, message: 'expected integer', value: v });
      if (s.minimum !== undefined && (v as number) < s.minimum)
        out.push({ location: loc, message: `expected number >= ${s.minimum}`, value: v });
      if (s.maximum !== undefined && (v as number) > s.maximum)
        out.push({ location: loc, message: `expected number <= ${s.maximum}`, value: v });
      return;
    case 'boolean':
      if (typeof v !== 'boolean') out.push({ location: loc, message: 'expected boolean', value: v });
      return;
    case 'array':
      if (!Array.isArray(v)) return void out.push({ location: loc, message: 'expected array', value: v });
      if (s.minItems !== undefined && v.length < s.minItems)
        out.push({ location: loc, message: `expected array length >= ${s.minItems}`, value: v });
      v.forEach((item, i) => check(s.items, item, `${loc}[${i}]`, out));
      return;
    case 'map':
      if (!isObject(v)) return void out.push({ location: loc, message: 'expected object', value: v });
      for (const [k, item] of Object.entries(v)) check(s.values, item, `${loc}.${k}`, out);
      return;
    case 'object':
      if (!isObject(v)) return void out.push({ location: loc, message: 'expected object', value: v });
      for (const name of s.required ?? [])
        if (v[name] === undefined)
          out.push({ location: loc, message: `expected required property ${name} to be present`, value: v });
      for (const [k, item] of Object.entries(v)) {
        const prop = Object.hasOwn(s.properties, k) ? s.properties[k] : undefined;
        if (!prop) out.push({ location: `${loc}.${k}`, message: 'unexpected property', value: item });
        else check(prop, item, `${loc}.${k}`, out);
      }
      return;
  }
}

/** Validate `value` against `schema`; a failure throws a 422 with every error found. */
export function validate<T>(schema: Schema, value: unknown, root = 'body'): T {
  const errors: ErrorDetail[] = [];
  check(schema, value, root, errors);
  if (errors.length > 0) throw new HttpProblem(422, 'validation failed', errors);
  return value as T;
}

/** A path or query UUID (422 with its location otherwise). */
export function requireUUID(value: string, location: string): string {
  if (!isUUID(value))
    throw new HttpProblem(422, 'validation failed', [{ location, message: 'expected string to be RFC 4122 uuid', value }]);
  return value;
}

// ---- the request schemas (engram-api.md §2) ----

export const str: Schema = { kind: 'string' };
const dateTime: Schema = { kind: 'string', format: 'date-time' };
export const stringMap: Schema = { kind: 'map', values: str };

/** An object schema (no additional properties). */
export function obj(properties: Record<string, Schema>, required: readonly string[] = []): Schema {
  return { kind: 'object', properties, required };
}

const toolCall = obj(
  {
    id: str,
    type: { kind: 'string', enum: ['function', 'custom'] },
    function: obj({ name: str, arguments: str }, ['name', 'arguments']),
    custom: obj({ name: str, input: str }, ['name', 'input']),
  },
  ['id'],
);

const message = obj(
  {
    role: { kind: 'string', enum: ROLES },
    content: str,
    created_at: dateTime,
    tool_call_id: str,
    name: str,
    tool_calls: { kind: 'array', items: toolCall },
  },
  ['role'],
);

export const createMemorySchema: Schema = obj(
  {
    input: obj({
      string: obj({ content: { kind: 'array', items: str }, created_at: dateTime, updated_at: dateTime }, ['content']),
      pre_extracted: obj(
        { items: { kind: 'array', items: obj({ content: str, topic: str }, ['content', 'topic']) } },
        ['items'],
      ),
      conversation: obj(
        {
          messages: { kind: 'array', items: message, minItems: 1 },
          metadata: { kind: 'map', values: { kind: 'any' } },
          created_at: dateTime,
          updated_at: dateTime,
        },
        ['messages'],
      ),
    }),
    user_id: str,
    properties: stringMap,
    group: str,
    root: str,
  },
  ['input'],
);

const topicFilter: Schema = {
  kind: 'either',
  options: [str, obj({ name: str, properties: { kind: 'map', values: { kind: 'nullable', inner: str } } }, ['name'])],
};

const filterFields: Record<string, Schema> = {
  user_id: str,
  group: str,
  topics: { kind: 'array', items: topicFilter },
  properties: stringMap,
};

export const searchSchema: Schema = obj(
  {
    ...filterFields,
    query: { kind: 'string', minLength: 1 },
    retrieval_config: obj(
      { retrieval_type: str, limit: { kind: 'integer', minimum: 1, maximum: 100, nullable: true } },
      ['retrieval_type'],
    ),
  },
  ['query'],
);

export const listSchema: Schema = obj({
  ...filterFields,
  limit: { kind: 'integer', minimum: 1, maximum: 100, nullable: true },
});
