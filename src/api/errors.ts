import type { HeaderBag } from './transport.js';
import { ExitCode } from '../cli/exit-codes.js';
import { isObject } from '../core/json.js';

/** Base of every error the CLI raises on purpose. `exitCode` is how main.ts ends the process. */
export class EngramError extends Error {
  readonly exitCode: ExitCode = ExitCode.UNEXPECTED;
  /** Extra lines printed under the message (hints, error locations). */
  hints: string[] = [];
}

/** Bad flags or input: exit 2, and nothing was sent. */
export class UsageError extends EngramError {
  override readonly exitCode: ExitCode = ExitCode.USAGE;
  constructor(message: string, hint?: string) {
    // One line: the problem, then the fix.
    super(hint ? `${message}; ${hint}` : message);
    this.name = 'UsageError';
  }
}

export class AuthConfigError extends EngramError {
  override readonly exitCode: ExitCode = ExitCode.AUTH;
  constructor(message: string, hint?: string) {
    // One line: the problem, then the fix.
    super(hint ? `${message}; ${hint}` : message);
    this.name = 'AuthConfigError';
  }
}

export interface ProblemLocation {
  location?: string;
  message?: string;
  value?: unknown;
}

/** An HTTP answer with status ≥ 400. One factory (`APIError.from`) picks the subclass. */
export class APIError extends EngramError {
  override readonly exitCode: ExitCode = ExitCode.REJECTED;
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly body: unknown,
    readonly headers: HeaderBag,
    readonly requestId: string | undefined,
    readonly locations: ProblemLocation[] = [],
  ) {
    super(detail.startsWith(String(status)) ? detail : `${status} ${detail}`);
    this.name = 'APIError';
    for (const l of locations) {
      const where = l.location ? `${l.location}: ` : '';
      this.hints.push(`${where}${l.message ?? 'invalid'}`);
    }
  }

  static from(status: number, statusText: string, text: string, headers: HeaderBag): APIError {
    const { detail, body, locations } = parseErrorBody(text, statusText || reasonPhrase(status));
    const requestId = requestIdOf(headers);
    const Cls = classFor(status);
    return new Cls(status, detail, body, headers, requestId, locations);
  }
}

/** The id a server gives a request (`X-Request-Id`, or `Request-Id`), for support and logs. */
export function requestIdOf(headers: HeaderBag): string | undefined {
  return headers.get('x-request-id') ?? headers.get('request-id') ?? undefined;
}

export class BadRequestError extends APIError {}
export class AuthenticationError extends APIError {
  override readonly exitCode: ExitCode = ExitCode.AUTH;
}
export class PermissionDeniedError extends APIError {
  override readonly exitCode: ExitCode = ExitCode.AUTH;
}
export class NotFoundError extends APIError {
  override readonly exitCode: ExitCode = ExitCode.NOT_FOUND;
}
export class ConflictError extends APIError {}
export class UnprocessableEntityError extends APIError {}
export class RateLimitError extends APIError {}
export class InternalServerError extends APIError {
  override readonly exitCode: ExitCode = ExitCode.UNAVAILABLE;
}

function classFor(status: number): typeof APIError {
  if (status === 400) return BadRequestError;
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionDeniedError;
  if (status === 404) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 422) return UnprocessableEntityError;
  if (status === 429) return RateLimitError;
  if (status >= 500) return InternalServerError;
  return APIError;
}

/** The network failed: refused, reset, DNS, TLS. The request may or may not have arrived. */
export class ConnectionError extends EngramError {
  override readonly exitCode: ExitCode = ExitCode.UNAVAILABLE;
  constructor(message: string, readonly code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

export class TimeoutError extends ConnectionError {
  constructor(ms: number) {
    super(`request timed out after ${formatMs(ms)}`, 'ETIMEDOUT');
    this.name = 'TimeoutError';
  }
}

/**
 * Connection errors raised before a single byte of the request left: the server cannot have
 * seen it, so sending it again is safe. Any other failure of a POST leaves its outcome unknown.
 */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function neverReachedServer(err: unknown): err is ConnectionError {
  return err instanceof ConnectionError && err.name !== 'TimeoutError' && NEVER_CONNECTED.has(err.code ?? '');
}

/** A 2xx answer that is not what the API promises (empty, truncated, not JSON, missing fields). */
export class MalformedResponseError extends EngramError {
  override readonly exitCode: ExitCode = ExitCode.UNAVAILABLE;
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'MalformedResponseError';
  }
}

/** The user (Ctrl-C / SIGTERM) aborted. Never retried. */
export class UserAbortError extends EngramError {
  override readonly exitCode: ExitCode;
  constructor(readonly signalName: 'SIGINT' | 'SIGTERM' | 'SIGPIPE' = 'SIGINT') {
    super(signalName === 'SIGPIPE' ? 'output closed by the reader' : 'interrupted');
    this.name = 'UserAbortError';
    this.exitCode = signalName === 'SIGTERM' ? ExitCode.SIGTERM : signalName === 'SIGPIPE' ? ExitCode.SIGPIPE : ExitCode.SIGINT;
  }

  /** The abort that ended `signals`: their own UserAbortError when they carry one (SIGTERM stays 143). */
  static from(...signals: Array<AbortSignal | undefined>): UserAbortError {
    for (const s of signals) if (s?.aborted && s.reason instanceof UserAbortError) return s.reason;
    return new UserAbortError();
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** problem+json `detail`, then `message`, `title`, then plain text, then the reason phrase. */
export function parseErrorBody(
  text: string,
  fallback: string,
): { detail: string; body: unknown; locations: ProblemLocation[] } {
  const trimmed = text.trim();
  if (trimmed === '') return { detail: fallback, body: undefined, locations: [] };
  let body: unknown;
  try {
    body = JSON.parse(trimmed);
  } catch {
    // Plain text (unknown routes) or an HTML error page from a proxy.
    if (/^<(!doctype|html)/i.test(trimmed)) {
      const title = /<title>([^<]*)<\/title>/i.exec(trimmed)?.[1]?.trim();
      return { detail: title || fallback, body: trimmed, locations: [] };
    }
    const firstLine = trimmed.split(/\r?\n/, 1)[0]!.slice(0, 300);
    return { detail: firstLine, body: trimmed, locations: [] };
  }
  if (isObject(body)) {
    const b = body;
    const pick = [b.detail, b.message, b.title].find((v) => typeof v === 'string' && v.trim() !== '') as
      | string
      | undefined;
    const locations = Array.isArray(b.errors)
      ? (b.errors as unknown[])
          .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
          .map((e) => ({
            location: typeof e.location === 'string' ? e.location : undefined,
            message: typeof e.message === 'string' ? e.message : undefined,
            value: e.value,
          }))
      : [];
    return { detail: pick ?? fallback, body, locations };
  }
  return { detail: fallback, body, locations: [] };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? `HTTP ${status}`;
}
