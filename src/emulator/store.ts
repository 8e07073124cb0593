import { constants } from 'node:fs';
import { access, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { tempNamePattern } from '../io/atomic.js';
import { HttpProblem } from './http.js';
import { nameUUID } from './ids.js';
import { obj, str, stringMap, validate, type Schema } from './validate.js';

/** The emulator's state: projects (one per API key), their memories, all runs; and its persistence. */

// ---- groups and topics (fixed; the same in every project) ----

export interface TopicDef {
  name: string;
  description: string;
  bounded: boolean;
  userScoped: boolean;
  scopeProperties: readonly string[];
}

export interface GroupDef {
  name: string;
  /** The pipeline has a buffer step: runs wait `in_buffer` until the trigger. */
  buffered: boolean;
  /** Where extracted sentences go. */
  extractTopic: string;
  /** Bounded topic a conversation add with the topic's scope properties also writes. */
  summaryTopic?: string;
  topics: readonly TopicDef[];
}

export const GROUPS: readonly GroupDef[] = [
  {
    name: 'default',
    buffered: false,
    extractTopic: 'UserKnowledge',
    summaryTopic: 'ConversationSummary',
    topics: [
      {
        name: 'UserKnowledge',
        description: 'General information about the user.',
        bounded: false,
        userScoped: true,
        scopeProperties: [],
      },
      {
        name: 'ConversationSummary',
        description: 'A running summary of a single conversation.',
        bounded: true,
        userScoped: true,
        scopeProperties: ['conversation_id'],
      },
    ],
  },
  {
    name: 'digest',
    buffered: true,
    extractTopic: 'Digest',
    topics: [
      {
        name: 'Digest',
        description: 'Facts about the user, committed in batches when the buffer step fires.',
        bounded: false,
        userScoped: true,
        scopeProperties: [],
      },
    ],
  },
];

export function findGroup(name: string): GroupDef | undefined {
  return GROUPS.find((g) => g.name === name);
}

/** The named group (default `default`), or 422 `group "x" not found`. */
export function requireGroup(name: string | undefined, location: string): GroupDef {
  const wanted = name ?? 'default';
  const group = findGroup(wanted);
  if (!group)
    throw new HttpProblem(422, `group "${wanted}" not found`, [{ location, message: 'group not found', value: wanted }]);
  return group;
}

export function topicOf(group: GroupDef, name: string): TopicDef | undefined {
  return group.topics.find((t) => t.name === name);
}

/** A topic of the group (case-sensitive), or 422. */
export function requireTopic(group: GroupDef, name: string, location: string): TopicDef {
  const topic = topicOf(group, name);
  if (!topic)
    throw new HttpProblem(422, `topic "${name}" not found in group "${group.name}"`, [
      { location, message: 'topic not found', value: name },
    ]);
  return topic;
}

/** Every property key must be a scope property of some topic in the group (400 otherwise). */
export function checkPropertyKeys(group: GroupDef, properties: Record<string, unknown>): void {
  for (const key of Object.keys(properties))
    if (!group.topics.some((t) => t.scopeProperties.includes(key)))
      throw new HttpProblem(400, `unknown property "${key}": no topic in group "${group.name}" is scoped by it`);
}

/** The subset of `properties` a topic is scoped by. */
export function scopeOf(topic: TopicDef, properties: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of topic.scopeProperties) if (properties[key] !== undefined) out[key] = properties[key];
  return out;
}

// ---- records ----

export interface MemoryRecord {
  id: string;
  group: string;
  topic: string;
  content: string;
  /** As the caller first sent it. */
  user_id?: string;
  /** Lower-cased: user ids compare case-insensitively. */
  user_key?: string;
  properties: Record<string, string>;
  created_at: number;
  updated_at: number;
}

export interface RunItem {
  topic: string;
  content: string;
  /** A conversation summary: merged into the existing bounded memory rather than replacing it. */
  summary?: boolean;
}

export interface CommitOp {
  memory_id: string;
  committed_at: number;
}

export type LifecycleStatus = 'running' | 'in_buffer' | 'completed' | 'failed';

export interface RunRecord {
  run_id: string;
  /** Digest of the project's API key. */
  project: string;
  group: string;
  user_id?: string;
  properties: Record<string, string>;
  input_type: 'string' | 'conversation' | 'pre_extracted';
  starting_step: number;
  status: LifecycleStatus;
  /** A status forced by the control surface; shown instead of `status`, and freezes the lifecycle. */
  pin?: string;
  error?: string;
  /** What the run will commit. */
  items: RunItem[];
  ops: { created: CommitOp[]; updated: CommitOp[]; deleted: CommitOp[] };
  created_at: number;
  updated_at: number;
  /** When `running` ends. */
  due_at: number;
}

export interface Project {
  key: string;
  project_id: string;
  created_at: number;
  /** lower-cased user id → the spelling first seen. */
  users: Map<string, string>;
  memories: Map<string, MemoryRecord>;
}

// ---- the store ----

export class Store {
  projects = new Map<string, Project>();
  runs = new Map<string, RunRecord>();
  /**
   * Runs that may still be `running` (a superset: entries that moved on are pruned by the
   * pipeline's settle). Settling scans these, not every run ever made, so a request costs the
   * same after a million adds as after ten.
   */
  readonly running = new Set<RunRecord>();
  /** Bumped by every mutation; the server persists when it moved during a request. */
  version = 0;

  touch(): void {
    this.version++;
  }

  /** The project of a key digest, created (with its default groups) on first use. */
  project(key: string, now: number): Project {
    let p = this.projects.get(key);
    if (!p) {
      p = {
        key,
        project_id: nameUUID('engram-emulator', 'project', key),
        created_at: now,
        users: new Map(),
        memories: new Map(),
      };
      this.projects.set(key, p);
      this.touch();
    }
    return p;
  }

  registerUser(project: Project, userId: string): void {
    const k = userId.toLowerCase();
    if (!project.users.has(k)) {
      project.users.set(k, userId);
      this.touch();
    }
  }

  /** 422 `user "x" not found` unless the user has had an add in this project. */
  requireUser(project: Project, userId: string): void {
    if (!project.users.has(userId.toLowerCase())) throw new HttpProblem(422, `user "${userId}" not found`);
  }

  addRun(run: RunRecord): void {
    this.runs.set(run.run_id, run);
    if (run.status === 'running') this.running.add(run);
    this.touch();
  }

  forgetRun(id: string): boolean {
    const run = this.runs.get(id);
    if (run) this.running.delete(run);
    const had = this.runs.delete(id);
    if (had) this.touch();
    return had;
  }

  putMemory(project: Project, m: MemoryRecord): void {
    project.memories.set(m.id, m);
    this.touch();
  }

  deleteMemory(project: Project, id: string): void {
    if (project.memories.delete(id)) this.touch();
  }

  reset(): void {
    this.projects.clear();
    this.runs.clear();
    this.running.clear();
    this.touch();
  }

  memoryCount(): number {
    let n = 0;
    for (const p of this.projects.values()) n += p.memories.size;
    return n;
  }

  toJSON(): PersistedState {
    return {
      format: FORMAT,
      projects: [...this.projects.values()].map((p) => ({
        ...p,
        users: Object.fromEntries(p.users),
        memories: [...p.memories.values()],
      })),
      runs: [...this.runs.values()],
    };
  }

  static fromJSON(data: unknown): Store {
    const state = validate<PersistedState>(stateSchema, data, 'data');
    const store = new Store();
    for (const p of state.projects)
      store.projects.set(p.key, {
        ...p,
        users: new Map(Object.entries(p.users)),
        memories: new Map(p.memories.map((m) => [m.id, m])),
      });
    for (const r of state.runs) {
      store.runs.set(r.run_id, r);
      if (r.status === 'running') store.running.add(r);
    }
    return store;
  }
}

export function groupId(project: Project, group: GroupDef): string {
  return nameUUID(project.project_id, 'group', group.name);
}

// ---- wire views ----

export const iso = (ms: number): string => new Date(ms).toISOString();

export function memoryView(project: Project, m: MemoryRecord): Record<string, unknown> {
  return {
    id: m.id,
    project_id: project.project_id,
    ...(m.user_id !== undefined ? { user_id: m.user_id } : {}),
    content: m.content,
    topic: m.topic,
    group: m.group,
    ...(Object.keys(m.properties).length > 0 ? { properties: m.properties } : {}),
    created_at: iso(m.created_at),
    updated_at: iso(m.updated_at),
  };
}

export function groupView(project: Project, g: GroupDef): Record<string, unknown> {
  return {
    group_id: groupId(project, g),
    name: g.name,
    topics: g.topics.map((t) => ({
      topic_name: t.name,
      description: t.description,
      is_bounded: t.bounded,
      scoping: { user_scoped: t.userScoped, scope_properties: [...t.scopeProperties] },
    })),
  };
}

// ---- persistence ----

const FORMAT = 'engram-emulator/1';

interface PersistedState {
  format: string;
  projects: (Omit<Project, 'users' | 'memories'> & { users: Record<string, string>; memories: MemoryRecord[] })[];
  runs: RunRecord[];
}

const int: Schema = { kind: 'integer' };
const opList: Schema = { kind: 'array', items: obj({ memory_id: str, committed_at: int }, ['memory_id', 'committed_at']) };
const stateSchema: Schema = obj(
  {
    format: { kind: 'string', enum: [FORMAT] },
    projects: {
      kind: 'array',
      items: obj(
        {
          key: str,
          project_id: str,
          created_at: int,
          users: stringMap,
          memories: {
            kind: 'array',
            items: obj(
              {
                id: str,
                group: str,
                topic: str,
                content: str,
                user_id: str,
                user_key: str,
                properties: stringMap,
                created_at: int,
                updated_at: int,
              },
              ['id', 'group', 'topic', 'content', 'properties', 'created_at', 'updated_at'],
            ),
          },
        },
        ['key', 'project_id', 'created_at', 'users', 'memories'],
      ),
    },
    runs: {
      kind: 'array',
      items: obj(
        {
          run_id: str,
          project: str,
          group: str,
          user_id: str,
          properties: stringMap,
          input_type: { kind: 'string', enum: ['string', 'conversation', 'pre_extracted'] },
          starting_step: int,
          status: { kind: 'string', enum: ['running', 'in_buffer', 'completed', 'failed'] },
          pin: str,
          error: str,
          items: {
            kind: 'array',
            items: obj({ topic: str, content: str, summary: { kind: 'boolean' } }, ['topic', 'content']),
          },
          ops: obj({ created: opList, updated: opList, deleted: opList }, ['created', 'updated', 'deleted']),
          created_at: int,
          updated_at: int,
          due_at: int,
        },
        [
          'run_id',
          'project',
          'group',
          'properties',
          'input_type',
          'starting_step',
          'status',
          'items',
          'ops',
          'created_at',
          'updated_at',
          'due_at',
        ],
      ),
    },
  },
  ['format', 'projects', 'runs'],
);

/** A --data FILE the emulator cannot use: the user's to fix, so it carries code EDATAFILE. */
export class DataFileError extends Error {
  readonly code = 'EDATAFILE';
}

/** Load FILE; a missing file is an empty store (if its directory is writable), anything else unusable is an error naming the file. */
export async function loadStore(file: string): Promise<Store> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // Find out now, not at the first add, that the state could never be saved.
      const dir = dirname(resolve(file));
      try {
        await access(dir, constants.W_OK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new DataFileError(`cannot keep emulator data in ${file}: the directory ${dir} ${code === 'ENOENT' ? 'does not exist' : 'is not writable'}`);
      }
      return new Store();
    }
    throw new DataFileError(`cannot read emulator data file ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DataFileError(`emulator data file ${file} is corrupt (not JSON: ${(err as Error).message}); move it away or delete it`);
  }
  try {
    return Store.fromJSON(data);
  } catch (err) {
    const where = err instanceof HttpProblem ? (err.errors ?? []).slice(0, 3).map((e) => `${e.location}: ${e.message}`) : [];
    throw new DataFileError(
      `emulator data file ${file} is corrupt (${where.join('; ') || (err as Error).message}); move it away or delete it`,
    );
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove temp files that a killed emulator left next to FILE (never those of a live process). */
export async function removeStaleTemps(file: string): Promise<string[]> {
  const dir = dirname(file);
  const re = tempNamePattern(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (m && !alive(Number(m[1]))) {
      await rm(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/**
 * Group commit: at most one write in flight. A save() while a write runs waits for the next
 * write, which starts when the current one ends and carries every change made until then.
 */
export class Persister {
  private inFlight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  writes = 0;

  constructor(
    private readonly snapshot: () => string,
    private readonly write: (text: string) => Promise<void>,
  ) {}

  save(): Promise<void> {
    if (!this.inFlight) {
      this.writes++;
      const text = this.snapshot();
      this.inFlight = this.write(text).finally(() => {
        this.inFlight = undefined;
      });
      return this.inFlight;
    }
    if (!this.queued) {
      this.queued = this.inFlight
        .catch(() => {})
        .then(() => {
          this.queued = undefined;
          return this.save();
        });
    }
    return this.queued;
  }

  /** Resolves when no write is in flight or queued (errors were already reported to savers). */
  async idle(): Promise<void> {
    while (this.inFlight || this.queued) await (this.queued ?? this.inFlight)!.catch(() => {});
  }
}
