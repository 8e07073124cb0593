import { Agent, request } from 'node:http';

/**
 * A load generator for the emulator, shared by the test suite (a few seconds) and
 * bench/emulator-load.bench.mjs (30 s): `clients` concurrent clients on loopback, each adding
 * a memory and polling its run until it is finished, again and again until the deadline; then
 * every acknowledged run is checked (none may be lost). Bounded: it stops by itself.
 */

export interface LoadOptions {
  url: string;
  clients: number;
  durationMs: number;
  key?: string;
  /** After the deadline, how long acknowledged runs may take to finish. */
  settleMs?: number;
}

export interface LoadResult {
  elapsedMs: number;
  requests: number;
  adds: number;
  polls: number;
  /** HTTP status → count, over every request. */
  statuses: Record<number, number>;
  /** Requests that got no HTTP answer (reset, refused, timeout). */
  networkErrors: number;
  /** Acknowledged runs (200 on the add). */
  acked: number;
  /** Acknowledged runs seen `completed` (during the load or in the final check). */
  completed: number;
  /** Acknowledged runs that the final check could not find, or that never finished. */
  lost: string[];
  /** Latency of every request, ms. */
  latencies: number[];
  /** Answers per second of the load phase: [0] is the first second. */
  perSecond: number[];
}

interface Answer {
  status: number;
  body: string;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const key = o.key ?? 'eng_load_test';
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients, maxFreeSockets: o.clients });
  const base = new URL(o.url);
  const r: LoadResult = { elapsedMs: 0, requests: 0, adds: 0, polls: 0, statuses: {}, networkErrors: 0, acked: 0, completed: 0, lost: [], latencies: [], perSecond: [] };
  const done = new Set<string>();
  const acked: string[] = [];

  const started = performance.now();
  const deadline = started + o.durationMs;
  const call = (method: string, path: string, body?: string): Promise<Answer | undefined> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      r.requests++;
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          agent,
          timeout: 30_000,
          headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const now = performance.now();
            r.latencies.push(now - t0);
            if (now < deadline) {
              const sec = Math.floor((now - started) / 1000);
              r.perSecond[sec] = (r.perSecond[sec] ?? 0) + 1;
            }
            r.statuses[res.statusCode ?? 0] = (r.statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', () => {
            r.networkErrors++;
            resolve(undefined);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        r.networkErrors++;
        resolve(undefined);
      });
      req.end(body);
    });

  const status = (a: Answer | undefined): string | undefined => {
    if (a?.status !== 200) return undefined;
    try {
      return (JSON.parse(a.body) as { status?: string }).status;
    } catch {
      return undefined;
    }
  };

  async function client(c: number): Promise<void> {
    for (let i = 0; performance.now() < deadline; i++) {
      r.adds++;
      const body = JSON.stringify({ input: { string: { content: [`Client ${c} remembers fact number ${i}.`] } }, user_id: `load-${c % 20}` });
      const a = await call('POST', '/v1/memories', body);
      if (a?.status !== 200) continue;
      const id = (JSON.parse(a.body) as { run_id: string }).run_id;
      acked.push(id);
      while (performance.now() < deadline) {
        r.polls++;
        const s = status(await call('GET', `/v1/runs/${id}`));
        if (s === 'completed' || s === 'failed') {
          if (s === 'completed') done.add(id);
          break;
        }
      }
    }
  }
  await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
  r.elapsedMs = performance.now() - started;

  // Every acknowledged run must exist and finish: check the ones not yet seen completed.
  const settleBy = performance.now() + (o.settleMs ?? 10_000);
  let pending = acked.filter((id) => !done.has(id));
  while (pending.length > 0 && performance.now() < settleBy) {
    const next: string[] = [];
    for (let i = 0; i < pending.length; i += o.clients) {
      const batch = pending.slice(i, i + o.clients);
      const got = await Promise.all(batch.map((id) => call('GET', `/v1/runs/${id}`)));
      batch.forEach((id, k) => {
        const s = status(got[k]);
        if (s === 'completed') done.add(id);
        else if (s !== 'failed') next.push(id);
      });
    }
    pending = next;
  }
  r.lost = pending;
  r.acked = acked.length;
  r.completed = acked.filter((id) => done.has(id)).length;
  agent.destroy();
  return r;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Peak and current resident memory of a Linux process, bytes (undefined elsewhere). */
export async function memoryOf(pid: number): Promise<{ peak: number; current: number } | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { peak: kb('VmHWM'), current: kb('VmRSS') };
  } catch {
    return undefined;
  }
}
