import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { realClock, type Clock } from '../core/clock.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { CreateMemoryRequest } from '../api/types.js';
import { controlRoutes, type EmulatorStats } from './control.js';
import { applyFault, FaultQueue } from './faults.js';
import {
  ClientGone,
  HttpProblem,
  jsonReply,
  noContent,
  parseJson,
  problemReply,
  projectRoute,
  publicRoute,
  readBody,
  routeNotFound,
  send,
  withSchema,
  type Reply,
  type Route,
} from './http.js';
import { keyDigest, randomId } from './ids.js';
import { Pipeline, runView } from './pipeline.js';
import { listMemories, searchMemories, type ListBody, type SearchBody } from './search.js';
import {
  findGroup,
  GROUPS,
  groupView,
  loadStore,
  memoryView,
  Persister,
  removeStaleTemps,
  requireGroup,
  Store,
  type Project,
} from './store.js';
import { createMemorySchema, listSchema, requireUUID, searchSchema, validate } from './validate.js';

export type { EmulatorStats } from './control.js';

export interface EmulatorOptions {
  host?: string;
  /** 0 = an ephemeral port. Default 4680. */
  port?: number;
  /** How long a run stays `running`. Default 2000. */
  runTimeMs?: number;
  clock?: Clock;
  /** Persist the whole state here (atomically) and load it at start. */
  dataFile?: string;
  /** If non-empty, only these keys are accepted. */
  keys?: string[];
  /** Default 10 MiB. */
  maxBodyBytes?: number;
  /** Buffered runs per project and group that fire a buffer. Default 3. */
  bufferTrigger?: number;
  log?: (line: string) => void;
}

export interface Emulator {
  /** http://host:port, no trailing slash. */
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): EmulatorStats;
}

export const DEFAULT_PORT = 4680;
export const DEFAULT_RUN_TIME_MS = 2000;
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_BUFFER_TRIGGER = 3;

// ---- authentication ----

/** The caller's key, or a 401 whose detail says what is wrong. */
export function authenticate(header: string | undefined, allowed: ReadonlySet<string>): string {
  const deny = (detail: string) => new HttpProblem(401, detail, undefined, { 'WWW-Authenticate': 'Bearer' });
  if (!header) throw deny('missing Authorization header: send "Authorization: Bearer eng_…"');
  if (!header.startsWith('Bearer '))
    throw deny('malformed Authorization header: use the Bearer scheme, spelled exactly "Bearer" (case-sensitive)');
  const key = header.slice('Bearer '.length).trim();
  if (!key.startsWith('eng_')) throw deny('invalid API key format: Engram API keys start with "eng_"');
  if (allowed.size > 0 && !allowed.has(key))
    throw deny('invalid API key: this emulator accepts only the keys it was started with');
  return key;
}

// ---- routing ----

interface Match {
  route: Route;
  params: Record<string, string>;
}

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

/** The route for method+path; a known path with another method is a 405 listing the allowed ones. */
function resolve(routes: readonly Route[], method: string, path: string, base: string): Match | Reply {
  const byPath = routes.flatMap((route) => {
    const params = matchPath(route.path, path);
    return params ? [{ route, params }] : [];
  });
  if (byPath.length === 0) return routeNotFound;
  const wanted = method === 'HEAD' ? 'GET' : method;
  // Literal segments beat parameters, as in Go's ServeMux.
  const hit = byPath
    .filter((m) => m.route.method === wanted)
    .sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length)[0];
  if (hit) return hit;
  const allow = [...new Set(byPath.map((m) => m.route.method))].join(', ');
  const detail = `method ${method} not allowed on ${path}; allowed: ${allow}`;
  return problemReply(base, new HttpProblem(405, detail, undefined, { Allow: allow }));
}

// ---- the /v1 API ----

function apiRoutes(base: string, store: Store, pipeline: Pipeline): Route[] {
  const schema = (name: string, body: object) => withSchema(base, name, body);
  const memoryFor = (project: Project, id: string, query: URLSearchParams) => {
    requireUUID(id, 'path.id');
    const group = requireGroup(query.get('group') || undefined, 'query.group');
    const userId = query.get('user_id') || undefined;
    if (userId) store.requireUser(project, userId);
    const m = project.memories.get(id);
    if (!m || m.group !== group.name) throw new HttpProblem(404, `memory "${id}" not found`);
    if (m.user_key !== undefined && m.user_key !== userId?.toLowerCase())
      throw new HttpProblem(
        404,
        userId
          ? `memory "${id}" not found for user "${userId}"`
          : `memory "${id}" not found (memories of user-scoped topics need user_id)`,
      );
    return m;
  };
  return [
    publicRoute('GET', '/health', () => jsonReply(200, { status: 'healthy', service: 'engram-memory-server' })),
    projectRoute('GET', '/v1/auth/verify', () => noContent),
    projectRoute(
      'POST',
      '/v1/memories',
      (ctx, project) => {
        const body = validate<CreateMemoryRequest>(createMemorySchema, ctx.body);
        const run = pipeline.submit(project, body, ctx.now);
        return jsonReply(200, schema('RunOutput', { run_id: run.run_id, status: run.status }));
      },
      'required',
    ),
    projectRoute('GET', '/v1/runs/:run_id', (ctx, project) => {
      const id = requireUUID(ctx.params.run_id!, 'path.run_id');
      const run = store.runs.get(id);
      if (!run) throw new HttpProblem(404, `run "${id}" not found`);
      if (run.project !== project.key) throw new HttpProblem(403, `run "${id}" belongs to another project`);
      return jsonReply(200, schema('Run', runView(project, run)));
    }),
    projectRoute('GET', '/v1/memories/:id', (ctx, project) =>
      jsonReply(200, schema('Memory', memoryView(project, memoryFor(project, ctx.params.id!, ctx.query)))),
    ),
    projectRoute('DELETE', '/v1/memories/:id', (ctx, project) => {
      store.deleteMemory(project, memoryFor(project, ctx.params.id!, ctx.query).id);
      return noContent;
    }),
    projectRoute(
      'POST',
      '/v1/memories/search',
      (ctx, project) =>
        jsonReply(200, schema('MemoryList', searchMemories(store, project, validate<SearchBody>(searchSchema, ctx.body)))),
      'required',
    ),
    projectRoute(
      'POST',
      '/v1/memories/list',
      (ctx, project) =>
        jsonReply(200, schema('MemoryList', listMemories(store, project, validate<ListBody>(listSchema, ctx.body)))),
      'required',
    ),
    projectRoute('GET', '/v1/groups', (_ctx, project) =>
      jsonReply(200, schema('GroupList', { groups: GROUPS.map((g) => groupView(project, g)) })),
    ),
    projectRoute('GET', '/v1/groups/by-name', (ctx, project) => {
      const name = ctx.query.get('name') || 'default';
      const group = findGroup(name);
      if (!group) throw new HttpProblem(404, `group "${name}" not found`);
      return jsonReply(200, schema('Group', groupView(project, group)));
    }),
  ];
}

// ---- the server ----

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const clock = opts.clock ?? realClock;
  const log = opts.log ?? (() => {});
  const host = opts.host ?? '127.0.0.1';
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const allowed = new Set(opts.keys ?? []);
  const now = () => Math.floor(clock.now());

  const file = opts.dataFile;
  const store = file ? await loadStore(file) : new Store();
  let persister: Persister | undefined;
  if (file) {
    for (const name of await removeStaleTemps(file)) log(`removed a stale temp file: ${name}`);
    persister = new Persister(
      () => JSON.stringify(store.toJSON()),
      (text) => writeFileAtomic(file, text, { mode: 0o600 }),
    );
  }
  const pipeline = new Pipeline(store, {
    runTimeMs: opts.runTimeMs ?? DEFAULT_RUN_TIME_MS,
    bufferTrigger: Math.max(1, opts.bufferTrigger ?? DEFAULT_BUFFER_TRIGGER),
  });
  const faults = new FaultQueue();
  const counters = { requests: 0, connections_total: 0, connections_open: 0, connections_peak: 0 };
  const stats = (): EmulatorStats => ({
    ...counters,
    projects: store.projects.size,
    runs: store.runs.size,
    memories: store.memoryCount(),
  });

  const server = createServer({ keepAlive: true });
  let base = '';
  let routes: Route[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    counters.requests++;
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    res.setHeader('X-Request-Id', randomId());
    let reply: Reply;
    try {
      const control = path.startsWith('/_emulator/');
      const fault = control ? undefined : faults.take(method, path);
      if (fault && (await applyFault(fault, res, clock, gone.signal, base))) {
        log(`${method} ${path} -> fault ${fault.fault_id} (${fault.action ?? 'respond'})`);
        return;
      }
      const found = resolve(routes, method, path, base);
      if (!('route' in found)) {
        reply = found;
      } else {
        const { route, params } = found;
        const before = store.version;
        const key = route.auth ? authenticate(req.headers.authorization, allowed) : undefined;
        const body = route.body
          ? parseJson(await readBody(req, maxBodyBytes), route.body === 'required')
          : undefined;
        const t = now();
        pipeline.settle(t);
        const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
        const ctx = { method, path, params, query, headers: req.headers, body, now: t };
        try {
          reply = route.auth ? route.handle(ctx, store.project(keyDigest(key!), t)) : route.handle(ctx);
        } finally {
          // Whatever changed (even on the way to an error) is on disk before the answer goes out.
          if (persister && store.version !== before) await persister.save();
        }
      }
    } catch (err) {
      if (err instanceof ClientGone) return;
      if (err instanceof HttpProblem) {
        reply = problemReply(base, err);
      } else {
        log(`error: ${method} ${path}: ${(err as Error)?.stack ?? String(err)}`);
        reply = problemReply(base, new HttpProblem(500, `internal emulator error: ${(err as Error)?.message ?? String(err)}`));
      }
    }
    send(res, reply);
    log(`${method} ${path} -> ${reply.status}`);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    req.on('error', () => {});
    res.on('error', () => {});
    handle(req, res).catch((err: unknown) => {
      log(`error: ${(err as Error)?.stack ?? String(err)}`);
      res.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    counters.connections_total++;
    counters.connections_open++;
    counters.connections_peak = Math.max(counters.connections_peak, counters.connections_open);
    socket.on('close', () => counters.connections_open--);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    socket.end(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request',
    );
  });

  // A listen error (EADDRINUSE, EADDRNOTAVAIL…) is rethrown as is: callers branch on its code.
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  server.on('error', (err) => log(`server error: ${err.message}`));

  const port = (server.address() as AddressInfo).port;
  base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  routes = [...apiRoutes(base, store, pipeline), ...controlRoutes({ base, store, pipeline, faults, stats })];

  let closing: Promise<void> | undefined;
  return {
    url: base,
    port,
    stats,
    close() {
      closing ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }).then(() => persister?.idle());
      return closing;
    },
  };
}
