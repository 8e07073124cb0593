import type { EngramClient, RequestOptions } from '../client.js';
import { pathSegment } from '../client.js';
import { MalformedResponseError } from '../errors.js';
import type { CreateMemoryRequest, ListRequest, Memory, MemoryList, RunOutput, SearchRequest } from '../types.js';

export interface ScopeQuery {
  user_id?: string;
  group?: string;
}

export class MemoriesResource {
  constructor(private readonly client: EngramClient) {}

  /** Starts a pipeline run. Never retried: adds are not idempotent. */
  add(body: CreateMemoryRequest, ro: Pick<RequestOptions, 'signal' | 'timeoutMs'> = {}): Promise<RunOutput> {
    return this.client.parsed('POST', '/memories', parseRunOutput, { body: stripUndefined(body), ...ro, idempotent: false });
  }

  async get(id: string, scope: ScopeQuery = {}, ro: RequestOptions = {}): Promise<Memory> {
    const res = await this.client.request<Memory>('GET', `/memories/${pathSegment(id)}`, {
      query: { ...scope },
      idempotent: true,
      ...ro,
    });
    return dropSchema(res.data);
  }

  async delete(id: string, scope: ScopeQuery = {}, ro: RequestOptions = {}): Promise<void> {
    await this.client.request<void>('DELETE', `/memories/${pathSegment(id)}`, {
      query: { ...scope },
      idempotent: true,
      noContent: true,
      ...ro,
    });
  }

  search(body: SearchRequest, ro: RequestOptions = {}): Promise<MemoryList> {
    return this.postForList('/memories/search', body, ro);
  }

  list(body: ListRequest, ro: RequestOptions = {}): Promise<MemoryList> {
    return this.postForList('/memories/list', body, ro);
  }

  /** search and list: idempotent POSTs answered by a memory list, checked (and retried) as such. */
  private postForList(path: string, body: SearchRequest | ListRequest, ro: RequestOptions): Promise<MemoryList> {
    return this.client.parsed('POST', path, normalizeList, { body: stripUndefined(body), idempotent: true, ...ro });
  }
}

/** `{run_id, status}` of a new run; `$schema` dropped, a null `error` left out. */
function parseRunOutput(data: unknown, status: number): RunOutput {
  const d = data as Record<string, unknown> | null;
  if (!d || typeof d !== 'object' || typeof d.run_id !== 'string') {
    throw new MalformedResponseError('add response has no run_id', status);
  }
  const rest = dropSchema(d);
  if (rest.error === null) delete rest.error;
  return rest as unknown as RunOutput;
}

function dropSchema<T>(v: T): T {
  if (v && typeof v === 'object' && '$schema' in v) {
    const { $schema: _s, ...rest } = v as Record<string, unknown>;
    return rest as T;
  }
  return v;
}

/**
 * `{memories: [...], total}`; `memories: null` is the API's empty list. Anything else (no
 * `memories` key, not an array, items that are not memories) is malformed: retried, and never
 * taken for "no memories" (an export must not replace a good file with an empty one).
 */
export function normalizeList(d: unknown, status = 200): MemoryList {
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw new MalformedResponseError('memory list response is not a JSON object', status);
  const o = d as Record<string, unknown>;
  if (!('memories' in o)) throw new MalformedResponseError('memory list response has no "memories"', status);
  if (o.memories !== null && !Array.isArray(o.memories)) throw new MalformedResponseError('"memories" in the response is not a list', status);
  const list = (o.memories ?? []) as unknown[];
  if (list.some((m) => !m || typeof m !== 'object' || typeof (m as Memory).id !== 'string')) {
    throw new MalformedResponseError('the response lists a memory without an id', status);
  }
  const memories = (list as Memory[]).map(dropSchema);
  return { memories, total: typeof o.total === 'number' ? o.total : memories.length };
}

/** Optional fields are omitted, never sent as null or undefined. */
export function stripUndefined<T>(v: T): T {
  if (Array.isArray(v)) return v.map(stripUndefined) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a data key named `__proto__` must be sent, not swallowed.
    for (const [k, val] of Object.entries(v)) {
      if (val !== undefined) Object.defineProperty(out, k, { value: stripUndefined(val), enumerable: true, writable: true, configurable: true });
    }
    return out as T;
  }
  return v;
}
