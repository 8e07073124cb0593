import type { Agent as HttpAgent, IncomingMessage } from 'node:http';

/** The few header operations the client needs (a `Headers` object fits too). */
export interface HeaderBag {
  get(name: string): string | null;
  forEach(cb: (value: string, name: string) => void): void;
}

export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

export interface TransportResponse {
  status: number;
  statusText: string;
  headers: HeaderBag;
  /** Reads the whole body; rejects with code ETRUNCATED if the connection ends early. */
  text(): Promise<string>;
}

export type Transport = (url: URL, req: TransportRequest) => Promise<TransportResponse>;

/** A transport error with a Node-style code (ECONNREFUSED, ECONNRESET, ETRUNCATED, …). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

class IncomingHeaders implements HeaderBag {
  constructor(private readonly raw: IncomingMessage['headers']) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
  forEach(cb: (value: string, name: string) => void): void {
    for (const k of Object.keys(this.raw)) cb(this.get(k)!, k);
  }
}

/** A response body larger than this is cut off (a server streaming without end must not exhaust memory). */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

const truncated = () => new TransportError('connection closed before the full response arrived', 'ETRUNCATED');
const aborted = () => new TransportError('aborted', 'ABORT_ERR');

/**
 * HTTP over node:http / node:https with keep-alive agents whose socket count is bounded.
 * Chosen over the global fetch, whose first use loads undici's bundle and WASM parser
 * (≈ 30 ms and ≈ 30 MB of peak RSS per process, for nothing a CLI needs).
 */
export function nodeTransport(opts: { maxSockets: number; maxResponseBytes?: number }): Transport {
  const maxBytes = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const agents = new Map<string, HttpAgent>();
  return async (url, req) => {
    const secure = url.protocol === 'https:';
    const mod = secure ? await import('node:https') : await import('node:http');
    let agent = agents.get(url.protocol);
    if (!agent) {
      agent = new mod.Agent({ keepAlive: true, maxSockets: opts.maxSockets, scheduling: 'lifo' });
      agents.set(url.protocol, agent);
    }
    const headers = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
    return new Promise<TransportResponse>((resolve, reject) => {
      if (req.signal.aborted) return reject(aborted());
      const r = mod.request(url, { method: req.method, headers, agent, signal: req.signal }, (res) => {
        let body: Promise<string> | undefined;
        const text = () =>
          (body ??= new Promise<string>((ok, fail) => {
            const declared = Number(res.headers['content-length']);
            const tooLarge = () => new TransportError(`the response is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`, 'ETOOLARGE');
            if (declared > maxBytes) {
              fail(tooLarge());
              return void res.destroy();
            }
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > maxBytes) {
                chunks.length = 0;
                fail(tooLarge());
                res.destroy(); // after fail(): destroying emits 'aborted' at once
              } else chunks.push(c);
            });
            res.on('end', () => {
              if (!res.complete) fail(truncated());
              else ok(Buffer.concat(chunks).toString('utf8'));
            });
            res.on('error', () => fail(req.signal.aborted ? aborted() : truncated()));
            res.on('aborted', () => fail(truncated()));
          }));
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: new IncomingHeaders(res.headers), text });
      });
      r.on('error', (e: NodeJS.ErrnoException) => {
        if (e.name === 'AbortError' || req.signal.aborted) return reject(aborted());
        reject(new TransportError(e.message, e.code ?? 'EUNKNOWN'));
      });
      r.end(req.body);
    });
  };
}
