import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Project } from './store.js';

/** HTTP plumbing shared by the API routes, the control surface and the fault injector. */

export interface ErrorDetail {
  location: string;
  message: string;
  value?: unknown;
}

/** Thrown by handlers; becomes an `application/problem+json` reply. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: ErrorDetail[],
    readonly headers?: Record<string, string>,
    /** Close the connection after replying (the request body was not read to the end). */
    readonly close = false,
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export interface Reply {
  status: number;
  /** Serialised as JSON. */
  json?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
  close?: boolean;
}

export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown Status';
}

export function jsonReply(status: number, body: unknown): Reply {
  return { status, json: body };
}

export const noContent: Reply = { status: 204 };

/** The plain-text 404 the real server (a Go mux) sends for unknown routes. */
export const routeNotFound: Reply = { status: 404, text: '404 page not found\n', contentType: 'text/plain; charset=utf-8' };

/** `{"$schema": <base>/schemas/<name>.json, ...body}` — the framework's self-description field. */
export function withSchema(base: string, name: string, body: object): Record<string, unknown> {
  return { $schema: `${base}/schemas/${name}.json`, ...body };
}

export function problemReply(base: string, p: HttpProblem): Reply {
  const doc = withSchema(base, 'ErrorModel', {
    type: 'about:blank',
    title: reasonPhrase(p.status),
    status: p.status,
    detail: p.detail,
    ...(p.errors && p.errors.length > 0 ? { errors: p.errors } : {}),
  });
  return { status: p.status, json: doc, contentType: 'application/problem+json', headers: p.headers, close: p.close };
}

/** Write a reply unless the client is already gone or something else answered. */
export function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed || res.writableEnded) return;
  const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
  const headers: Record<string, string | number> = { ...reply.headers };
  if (reply.json !== undefined || body.length > 0) headers['Content-Type'] = reply.contentType ?? 'application/json';
  headers['Content-Length'] = Buffer.byteLength(body);
  if (reply.close) headers['Connection'] = 'close';
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** The client went away while we were reading or waiting. Nothing is sent. */
export class ClientGone extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientGone';
  }
}

/**
 * Read the body with a size cap. Over `maxBytes`, nothing more is kept and the answer is a
 * 413 that closes the connection; but the rest of the body is still read (and dropped) first,
 * up to 16 × `maxBytes`: a client still writing would otherwise get a reset (EPIPE) instead of
 * the 413 (the "lingering close" of Go's server). A declared or streamed size beyond that is
 * cut off at once.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new HttpProblem(413, `request body is larger than the limit of ${maxBytes} bytes`, undefined, undefined, true);
  const discardCap = maxBytes * 16;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > discardCap) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > maxBytes;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > discardCap) {
        cleanup();
        req.pause();
        reject(tooLarge());
        return;
      }
      if (size > maxBytes) over = true;
      if (over) chunks.length = 0;
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (over) reject(tooLarge());
      else resolve(Buffer.concat(chunks, size));
    };
    const onGone = () => {
      cleanup();
      reject(new ClientGone());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

/** Parse a JSON body. `required`: an empty body is a 400; otherwise it reads as undefined. */
export function parseJson(raw: Buffer, required: boolean): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') {
    if (required) throw new HttpProblem(400, 'request body is required: send a JSON object');
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpProblem(400, `malformed JSON in request body: ${(err as Error).message}`);
  }
}

/** What a handler sees. `body` is the parsed JSON (not yet schema-checked). */
export interface RequestContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  /** clock.now() when the handler runs (after settling due runs). */
  now: number;
}

interface RouteBase {
  method: string;
  /** Segments; `:name` is a path parameter. */
  path: string;
  /** `required`: the body must be JSON; `optional`: JSON or empty; absent: not read. */
  body?: 'required' | 'optional';
}

export interface PublicRoute extends RouteBase {
  auth: false;
  handle(ctx: RequestContext): Reply;
}

export interface ProjectRoute extends RouteBase {
  auth: true;
  handle(ctx: RequestContext, project: Project): Reply;
}

export type Route = PublicRoute | ProjectRoute;

export function publicRoute(method: string, path: string, handle: PublicRoute['handle'], body?: RouteBase['body']): PublicRoute {
  return { method, path, auth: false, body, handle };
}

/** A route that needs a valid key; the handler gets the key's project. */
export function projectRoute(method: string, path: string, handle: ProjectRoute['handle'], body?: RouteBase['body']): ProjectRoute {
  return { method, path, auth: true, body, handle };
}
