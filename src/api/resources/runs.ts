import type { EngramClient, RequestOptions } from '../client.js';
import { pathSegment } from '../client.js';
import { MalformedResponseError } from '../errors.js';
import type { CommittedOperation, CommittedOperations, Run } from '../types.js';

export class RunsResource {
  constructor(private readonly client: EngramClient) {}

  get(runId: string, ro: Omit<RequestOptions, 'body' | 'query' | 'validate'> = {}): Promise<Run> {
    return this.client.parsed('GET', `/runs/${pathSegment(runId)}`, normalizeRun, { idempotent: true, ...ro });
  }
}

function normalizeOps(list: unknown): CommittedOperation[] {
  if (!Array.isArray(list)) return [];
  return list.filter((o): o is CommittedOperation => !!o && typeof o === 'object' && typeof (o as CommittedOperation).memory_id === 'string');
}

export function normalizeCommitted(raw: unknown): CommittedOperations {
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  return { ...o, created: normalizeOps(o.created), updated: normalizeOps(o.updated), deleted: normalizeOps(o.deleted) };
}

const STABLE_KEYS = ['group_id', 'user_id', 'starting_step', 'input_type', 'created_at', 'updated_at', 'error'] as const;

/**
 * The run as the contract shows it: API fields kept (unknown ones too), `$schema` dropped,
 * `committed_operations` always an object of three arrays, absent fields present as null.
 * A body without a string `run_id` and `status` is malformed (retried by the wait engine).
 */
export function normalizeRun(raw: unknown, httpStatus = 200): Run {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MalformedResponseError('run response is not a JSON object', httpStatus);
  }
  const { $schema: _schema, ...rest } = raw as Record<string, unknown>;
  if (typeof rest.run_id !== 'string' || typeof rest.status !== 'string' || rest.status === '') {
    throw new MalformedResponseError('run response has no run_id or status', httpStatus);
  }
  // The same keys for every status, so `jq .error` or `.user_id` never meets a missing key.
  for (const k of STABLE_KEYS) if (rest[k] === undefined) rest[k] = null;
  return { ...rest, committed_operations: normalizeCommitted(rest.committed_operations) } as Run;
}

/**
 * A run known only by its id (never seen by a wait, or not readable): the keys of every run
 * document, null, and `committed_operations` of three empty arrays, so scripts meet one shape.
 */
export function blankRun(runId: string): Omit<Run, 'status'> & { status: null } {
  const run: Record<string, unknown> = { run_id: runId, status: null };
  for (const k of STABLE_KEYS) run[k] = null;
  return { ...run, committed_operations: normalizeCommitted(undefined) } as unknown as Omit<Run, 'status'> & { status: null };
}
