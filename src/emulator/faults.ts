import type { ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import { HttpProblem, problemReply, send } from './http.js';
import { randomId } from './ids.js';
import { obj, str, stringMap, type Schema } from './validate.js';

/**
 * Scripted faults: the next `count` requests matching a method and path prefix are answered
 * with an error, a dropped or truncated connection, an empty body, or a delay. Requests to the
 * control surface (/_emulator/…) are never faulted.
 */

export const FAULT_ACTIONS = ['respond', 'drop', 'truncate', 'empty'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

export interface FaultSpec {
  method?: string;
  path?: string;
  count?: number;
  /** Let this many matching requests through untouched first (e.g. 2 = fault the 3rd). */
  after?: number;
  action?: FaultAction;
  status?: number;
  body?: unknown;
  content_type?: string;
  headers?: Record<string, string>;
  retry_after?: string;
  retry_after_ms?: number;
  delay_ms?: number;
}

export interface Fault extends FaultSpec {
  fault_id: string;
  /** Matching requests still to be faulted. */
  remaining: number;
}

export const DEFAULT_FAULT_STATUS = 502;

export const faultSchema: Schema = obj({
  method: str,
  path: str,
  count: { kind: 'integer', minimum: 1 },
  after: { kind: 'integer', minimum: 0 },
  action: { kind: 'string', enum: FAULT_ACTIONS },
  status: { kind: 'integer', minimum: 100, maximum: 599 },
  body: { kind: 'either', options: [str, { kind: 'map', values: { kind: 'any' } }, { kind: 'array', items: { kind: 'any' } }] },
  content_type: str,
  headers: stringMap,
  retry_after: str,
  retry_after_ms: { kind: 'integer', minimum: 0 },
  delay_ms: { kind: 'integer', minimum: 0 },
});

export class FaultQueue {
  private faults: Fault[] = [];

  add(spec: FaultSpec): Fault {
    const fault: Fault = { fault_id: randomId(), ...spec, remaining: spec.count ?? 1 };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): number {
    const n = this.faults.length;
    this.faults = [];
    return n;
  }

  /** The first pending fault matching this request (FIFO), with one use consumed. */
  take(method: string, path: string): Fault | undefined {
    const f = this.faults.find((f) => {
      if (!((f.method === undefined || f.method.toUpperCase() === method) && (f.path === undefined || path.startsWith(f.path)))) return false;
      if (f.after !== undefined && f.after > 0) {
        f.after--; // this request passes this fault (a later one may still match)
        return false;
      }
      return true;
    });
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
    return f;
  }
}

/** What a fault does with the request: answer it itself, or let normal handling go on (delay only). */
function actionOf(f: Fault): FaultAction | 'pass' {
  return f.action ?? (f.status === undefined && f.delay_ms !== undefined ? 'pass' : 'respond');
}

function faultHeaders(f: Fault): Record<string, string> {
  return {
    ...f.headers,
    ...(f.retry_after !== undefined ? { 'Retry-After': f.retry_after } : {}),
    ...(f.retry_after_ms !== undefined ? { 'retry-after-ms': String(f.retry_after_ms) } : {}),
  };
}

function bodyText(f: Fault): { text: string; type: string } | undefined {
  if (f.body === undefined) return undefined;
  if (typeof f.body === 'string') return { text: f.body, type: f.content_type ?? 'text/plain; charset=utf-8' };
  return { text: JSON.stringify(f.body), type: f.content_type ?? 'application/json' };
}

/**
 * Carry out a fault. Returns true when the request is answered (or dropped), false when only a
 * delay applied and normal handling should continue.
 */
export async function applyFault(
  f: Fault,
  res: ServerResponse,
  clock: Clock,
  signal: AbortSignal,
  base: string,
): Promise<boolean> {
  if (f.delay_ms !== undefined && f.delay_ms > 0) {
    try {
      await clock.sleep(f.delay_ms, signal, { releasesHold: true });
    } catch {
      return true; // the client left during the delay
    }
  }
  const action = actionOf(f);
  const headers = faultHeaders(f);
  const body = bodyText(f);
  switch (action) {
    case 'pass':
      return false;
    case 'drop':
      res.socket?.destroy();
      return true;
    case 'empty':
      res.writeHead(f.status ?? 200, { ...headers, 'Content-Type': f.content_type ?? 'application/json', 'Content-Length': 0 });
      res.end();
      return true;
    case 'truncate': {
      const text = body?.text ?? '{"run_id":"';
      const declared = Buffer.byteLength(text) + 64;
      res.writeHead(f.status ?? 200, {
        ...headers,
        'Content-Type': body?.type ?? 'application/json',
        'Content-Length': declared,
      });
      res.write(text, () => res.socket?.destroy());
      return true;
    }
    case 'respond': {
      const status = f.status ?? DEFAULT_FAULT_STATUS;
      if (body) send(res, { status, text: body.text, contentType: body.type, headers });
      else {
        const detail = `injected fault ${f.fault_id} (emulator control)`;
        send(res, problemReply(base, new HttpProblem(status, detail, undefined, headers)));
      }
      return true;
    }
  }
}
