import type { Clock } from '../core/clock.js';
import type { Random } from '../core/clock.js';
import {
  APIError,
  ConnectionError,
  EngramError,
  MalformedResponseError,
  requestIdOf,
  TimeoutError,
  UserAbortError,
} from './errors.js';
import { Backoff, retryDelayMs } from './retry.js';
import { nodeTransport, TransportError, type HeaderBag, type Transport } from './transport.js';
import { RunsResource } from './resources/runs.js';
import { MemoriesResource } from './resources/memories.js';
import { GroupsResource } from './resources/groups.js';
import { AuthResource } from './resources/auth.js';

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  clock: Clock;
  random: Random;
  /** Per-request timeout (connect to last byte). */
  timeoutMs: number;
  /** Retries for idempotent requests outside the wait engine. */
  maxRetries?: number;
  clientVersion: string;
  /** Trace lines for --debug; the key is never passed in. */
  debug?: (line: string) => void;
  /** Aborted on Ctrl-C / SIGTERM: every request and every backoff sleep stops. */
  signal?: AbortSignal;
  /** HTTP transport; default node:http(s) with a bounded keep-alive pool. */
  transport?: Transport;
  /** Response bodies larger than this are refused (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** A request that is safe to send twice (GET, search, list). POST /v1/memories is not. */
  idempotent?: boolean;
  /** Override the client's retry count for this request (the wait engine retries itself). */
  maxRetries?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** 204 expected: no body to parse. */
  noContent?: boolean;
  /**
   * Checks the parsed body (throws MalformedResponseError when it is not what the API
   * promises). Inside the retry loop: a wrong-shaped 2xx is retried like an unparsable one.
   */
  validate?: (data: unknown, status: number) => void;
}

/** Sockets per origin; the wait engine's concurrency default matches it. */
export const MAX_SOCKETS = 16;

export interface APIResponse<T> {
  data: T;
  status: number;
  headers: HeaderBag;
  requestId: string | undefined;
}

/** Percent-encode a value as exactly one path segment. Callers validate ids first. */
export function pathSegment(value: string): string {
  if (value === '' || value === '.' || value === '..') throw new Error(`invalid path segment ${JSON.stringify(value)}`);
  return encodeURIComponent(value);
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof UserAbortError) return false;
  if (err instanceof ConnectionError || err instanceof MalformedResponseError) return true;
  if (err instanceof APIError) return err.status === 408 || err.status === 429 || err.status >= 500;
  return false;
}

/** The single request pipeline: URL, headers, timeout, errors, retries, debug trace. */
export class EngramClient {
  readonly runs = new RunsResource(this);
  readonly memories = new MemoriesResource(this);
  readonly groups = new GroupsResource(this);
  readonly auth = new AuthResource(this);
  private readonly base: string;
  private readonly transport: Transport;

  constructor(readonly opts: ClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.transport = opts.transport ?? nodeTransport({ maxSockets: MAX_SOCKETS, maxResponseBytes: opts.maxResponseBytes });
  }

  get baseUrl(): string {
    return this.base;
  }

  async request<T>(method: string, path: string, ro: RequestOptions = {}): Promise<APIResponse<T>> {
    const retries = ro.idempotent ? (ro.maxRetries ?? this.opts.maxRetries ?? 2) : 0;
    const backoff = new Backoff({ baseMs: 500, factor: 2, capMs: 8000, jitter: 0.25, random: this.opts.random });
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.once<T>(method, path, ro);
        ro.validate?.(res.data, res.status);
        return res;
      } catch (err) {
        if (attempt >= retries || !isRetryable(err)) throw err;
        const delay = retryDelayMs(err, backoff, this.opts.clock.now());
        this.opts.debug?.(`* retrying in ${delay}ms after: ${(err as Error).message}`);
        try {
          await this.opts.clock.sleep(delay, this.userSignal(ro));
        } catch {
          throw UserAbortError.from(ro.signal, this.opts.signal);
        }
      }
    }
  }

  /**
   * A request whose body `parse` checks and turns into the result; inside the retry loop, so a
   * wrong-shaped 2xx of an idempotent request is retried like an unparsable one.
   */
  async parsed<T>(method: string, path: string, parse: (data: unknown, status: number) => T, ro: Omit<RequestOptions, 'validate'> = {}): Promise<T> {
    let result!: T;
    await this.request<unknown>(method, path, { ...ro, validate: (data, status) => void (result = parse(data, status)) });
    return result;
  }

  private userSignal(ro: RequestOptions): AbortSignal | undefined {
    const signals = [ro.signal, this.opts.signal].filter((s): s is AbortSignal => !!s);
    if (signals.length === 0) return undefined;
    return signals.length === 1 ? signals[0] : AbortSignal.any(signals);
  }

  private async once<T>(method: string, path: string, ro: RequestOptions): Promise<APIResponse<T>> {
    const url = new URL(this.base + '/v1' + path);
    for (const [k, v] of Object.entries(ro.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${this.opts.apiKey}`,
      'X-Engram-Client': `engram-cli/${this.opts.clientVersion}`,
    };
    let payload: string | undefined;
    if (ro.body !== undefined) {
      payload = JSON.stringify(ro.body);
      headers['Content-Type'] = 'application/json';
    }
    const timeoutMs = ro.timeoutMs ?? this.opts.timeoutMs;
    // Listen to the caller's and the client's signals directly (no AbortSignal.any per
    // request: on Node 20 composite signals stay referenced by long-lived sources).
    const userSignals = [ro.signal, this.opts.signal].filter((s): s is AbortSignal => !!s);
    if (userSignals.some((s) => s.aborted)) throw UserAbortError.from(...userSignals);
    const ctrl = new AbortController();
    const timer = new AbortController();
    let timedOut = false;
    // A closed stdout (`| head`) stops new work, but a request already sent that is not
    // idempotent runs to its answer: that answer is what lets an add record the run it started.
    const onUser = () => {
      const reason = userSignals.find((x) => x.aborted)?.reason;
      if (!ro.idempotent && reason instanceof UserAbortError && reason.signalName === 'SIGPIPE') return;
      ctrl.abort();
    };
    for (const s of userSignals) s.addEventListener('abort', onUser, { once: true });
    this.opts.clock.sleep(timeoutMs, timer.signal).then(
      () => {
        timedOut = true;
        ctrl.abort();
      },
      () => {},
    );
    const debug = this.opts.debug;
    const started = this.opts.clock.now();
    if (debug) {
      debug(`> ${method} ${url.href}`);
      for (const [k, v] of Object.entries(headers)) debug(`> ${k}: ${k === 'Authorization' ? 'Bearer [REDACTED]' : v}`);
      if (payload !== undefined) debug(`> (${Buffer.byteLength(payload)} bytes of JSON)`);
    }
    try {
      return await this.opts.clock.hold(
        (async () => {
          let res;
          try {
            res = await this.transport(url, { method, headers, body: payload, signal: ctrl.signal });
          } catch (err) {
            throw this.networkError(err, timedOut, timeoutMs, url, userSignals);
          }
          let text: string;
          try {
            text = await res.text();
          } catch (err) {
            if (timedOut) throw new TimeoutError(timeoutMs);
            if (ctrl.signal.aborted) throw UserAbortError.from(...userSignals);
            if (err instanceof TransportError && err.code === 'ETOOLARGE') throw new MalformedResponseError(`${err.message} (from ${url.host})`, res.status);
            throw new ConnectionError(`connection closed while reading the response from ${url.host}`, 'ETRUNCATED', {
              cause: err,
            });
          }
          const requestId = requestIdOf(res.headers);
          if (debug) {
            debug(`< ${res.status} ${res.statusText} (${this.opts.clock.now() - started}ms, ${Buffer.byteLength(text)} bytes)`);
            res.headers.forEach((v, k) => debug(`< ${k}: ${/^(authorization|set-cookie)$/i.test(k) ? '[REDACTED]' : v}`));
          }
          if (res.status >= 400 || (res.status >= 300 && res.status < 400)) {
            throw APIError.from(res.status, res.statusText, text, res.headers);
          }
          if (ro.noContent || res.status === 204) return { data: undefined as T, status: res.status, headers: res.headers, requestId };
          if (text.trim() === '') throw new MalformedResponseError(`empty response body (HTTP ${res.status})`, res.status);
          let data: unknown;
          try {
            data = JSON.parse(text);
          } catch {
            const declared = res.headers.get('content-length');
            const hint = declared && Number(declared) !== Buffer.byteLength(text) ? ' (truncated)' : '';
            throw new MalformedResponseError(
              `response is not valid JSON${hint}: ${(res.headers.get('content-type') ?? 'no content type').split(';')[0]}`,
              res.status,
            );
          }
          return { data: data as T, status: res.status, headers: res.headers, requestId };
        })(),
      );
    } finally {
      timer.abort();
      for (const s of userSignals) s.removeEventListener('abort', onUser);
    }
  }

  private networkError(err: unknown, timedOut: boolean, timeoutMs: number, url: URL, userSignals: AbortSignal[]): EngramError {
    if (timedOut) return new TimeoutError(timeoutMs);
    const code = err instanceof TransportError ? err.code : (err as NodeJS.ErrnoException)?.code;
    if (code === 'ABORT_ERR') return UserAbortError.from(...userSignals);
    const why = code ?? (err as Error)?.message ?? 'unknown error';
    const human: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      ECONNRESET: 'connection reset',
      ENOTFOUND: 'host not found (DNS)',
      EAI_AGAIN: 'DNS lookup failed',
      UND_ERR_SOCKET: 'connection closed by the server',
      EPROTO: 'TLS handshake failed',
      CERT_HAS_EXPIRED: 'the server certificate has expired',
      DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed',
      ETIMEDOUT: 'connection timed out',
      EHOSTUNREACH: 'host unreachable',
      UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
    };
    return new ConnectionError(`cannot reach ${url.host}: ${human[code ?? ''] ?? why}`, code, { cause: err });
  }
}
