import { FakeClock } from '../../src/core/fake-clock.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';

export const KEY = 'eng_test_alpha';
export const OTHER_KEY = 'eng_test_beta';
export const RUN_TIME = 2000;

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON, or undefined for an empty / non-JSON body. */
  json: any;
}

export interface CallOptions {
  /** null: send no Authorization header. */
  key?: string | null;
  body?: unknown;
  /** Sent verbatim instead of JSON.stringify(body). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface Harness {
  emu: Emulator;
  clock: FakeClock;
  logs: string[];
  call(method: string, path: string, opts?: CallOptions): Promise<Res>;
  /** POST /v1/memories, expecting 200; returns the run id. */
  add(body: Record<string, unknown>, key?: string): Promise<string>;
  /** Add plain text for a user. */
  addText(user: string, texts: string[], extra?: Record<string, unknown>, key?: string): Promise<string>;
  run(id: string, key?: string): Promise<any>;
  close(): Promise<void>;
}

export async function startHarness(opts: EmulatorOptions = {}): Promise<Harness> {
  const clock = (opts.clock as FakeClock | undefined) ?? new FakeClock();
  const logs: string[] = [];
  const emu = await startEmulator({ port: 0, runTimeMs: RUN_TIME, log: (l) => logs.push(l), ...opts, clock });
  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Res> => {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? KEY : o.key;
    if (key !== null) headers['Authorization'] = `Bearer ${key}`;
    let body: string | undefined = o.raw;
    if (body === undefined && o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined) headers['Content-Type'] ??= 'application/json';
    const res = await fetch(emu.url + path, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  const add = async (body: Record<string, unknown>, key = KEY) => {
    const res = await call('POST', '/v1/memories', { body, key });
    if (res.status !== 200) throw new Error(`add failed: ${res.status} ${res.text}`);
    return res.json.run_id as string;
  };
  return {
    emu,
    clock,
    logs,
    call,
    add,
    addText: (user, texts, extra = {}, key = KEY) => add({ input: { string: { content: texts } }, user_id: user, ...extra }, key),
    run: async (id, key = KEY) => {
      const res = await call('GET', `/v1/runs/${id}`, { key });
      if (res.status !== 200) throw new Error(`get run failed: ${res.status} ${res.text}`);
      return res.json;
    },
    close: () => emu.close(),
  };
}

/** Every id a run committed, by kind. */
export function opIds(run: any): { created: string[]; updated: string[]; deleted: string[] } {
  const ids = (l: { memory_id: string }[]) => l.map((o) => o.memory_id);
  const ops = run.committed_operations;
  return { created: ids(ops.created), updated: ids(ops.updated), deleted: ids(ops.deleted) };
}

export function expectProblem(res: Res, status: number): any {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) throw new Error(`expected a problem document, got ${type}: ${res.text}`);
  if (res.json?.status !== status || typeof res.json?.detail !== 'string')
    throw new Error(`malformed problem document: ${res.text}`);
  return res.json;
}
