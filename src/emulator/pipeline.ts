import type { CreateMemoryRequest, Input } from '../api/types.js';
import { HttpProblem } from './http.js';
import { nameUUID, randomId, uuidv7 } from './ids.js';
import {
  checkPropertyKeys,
  findGroup,
  groupId,
  iso,
  requireGroup,
  requireTopic,
  scopeOf,
  topicOf,
  type CommitOp,
  type GroupDef,
  type MemoryRecord,
  type Project,
  type RunItem,
  type RunRecord,
  type Store,
  type TopicDef,
} from './store.js';

/**
 * The simulated memory pipeline: deterministic extraction at submission, then a lifecycle
 * derived from the clock. Nothing runs on a timer: `settle(now)` (called before every request)
 * moves each due run forward in due-time order, so virtual time behaves like real time.
 */

export const NO_USER_CONTENT = 'extraction produced no memories: the input has no user content';
export const FAILED_ON_PURPOSE = 'failed on purpose (emulator control)';

/** Sentences: split after . ! ? followed by whitespace or the end; trimmed; those without a letter or digit dropped. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s));
}

interface Extraction {
  items: RunItem[];
  /** Topics the add writes to: their scoping rules apply to the request. */
  targets: TopicDef[];
  inputType: RunRecord['input_type'];
}

/** Turn an input into the memories it will commit (400/422 for content a real server rejects outright). */
export function extract(group: GroupDef, input: Input, properties: Record<string, string>): Extraction {
  const extractTopic = topicOf(group, group.extractTopic)!;
  if ('string' in input && input.string) {
    const content = input.string.content;
    if (content.length === 0) throw new HttpProblem(400, 'empty content: input.string.content has no strings');
    content.forEach((c, i) => {
      if (c === '') throw new HttpProblem(400, `empty content: input.string.content[${i}] is an empty string`);
    });
    const items = content.flatMap(splitSentences).map((content) => ({ topic: extractTopic.name, content }));
    return { items, targets: [extractTopic], inputType: 'string' };
  }
  if ('conversation' in input && input.conversation) {
    const sentences = input.conversation.messages
      .filter((m) => m.role === 'user')
      .flatMap((m) => splitSentences(m.content ?? ''));
    const items: RunItem[] = sentences.map((content) => ({ topic: extractTopic.name, content }));
    const targets = [extractTopic];
    const summary = group.summaryTopic ? topicOf(group, group.summaryTopic) : undefined;
    if (summary && summary.scopeProperties.every((k) => properties[k] !== undefined)) {
      targets.push(summary);
      if (sentences.length > 0) items.push({ topic: summary.name, content: sentences.join(' '), summary: true });
    }
    return { items, targets, inputType: 'conversation' };
  }
  const list = 'pre_extracted' in input && input.pre_extracted ? input.pre_extracted.items : [];
  if (list.length === 0) throw new HttpProblem(400, 'empty content: input.pre_extracted.items has no items');
  const targets = new Set<TopicDef>();
  const items = list.map((item, i) => {
    if (item.content.trim() === '')
      throw new HttpProblem(400, `empty content: input.pre_extracted.items[${i}].content is empty`);
    targets.add(requireTopic(group, item.topic, `body.input.pre_extracted.items[${i}].topic`));
    return { topic: item.topic, content: item.content };
  });
  return { items, targets: [...targets], inputType: 'pre_extracted' };
}

/** Sentences of `addition` not already in `existing`, appended to it. */
function mergeSummary(existing: string, addition: string): string {
  const have = new Set(splitSentences(existing));
  const fresh = splitSentences(addition).filter((s) => !have.has(s));
  return [existing, ...fresh].filter((s) => s !== '').join(' ');
}

export interface PipelineOptions {
  runTimeMs: number;
  bufferTrigger: number;
}

export class Pipeline {
  constructor(
    private readonly store: Store,
    private readonly opts: PipelineOptions,
  ) {}

  /** POST /v1/memories after schema validation: the scope rules, then a new `running` run. */
  submit(project: Project, body: CreateMemoryRequest, now: number): RunRecord {
    const group = requireGroup(body.group, 'body.group');
    const input = body.input as Record<string, unknown>;
    const kinds = ['string', 'conversation', 'pre_extracted'].filter((k) => input[k] !== undefined);
    if (kinds.length > 1)
      throw new HttpProblem(400, `more than one input type (${kinds.join(', ')}): set exactly one of them`);
    if (kinds.length === 0)
      throw new HttpProblem(400, 'no input type: set one of input.string, input.conversation, input.pre_extracted');
    const properties = body.properties ?? {};
    checkPropertyKeys(group, properties);
    const { items, targets, inputType } = extract(group, body.input, properties);
    for (const t of targets) {
      if (t.userScoped && !body.user_id)
        throw new HttpProblem(400, `user_id is required: topic "${t.name}" in group "${group.name}" is user-scoped`);
      for (const key of t.scopeProperties)
        if (properties[key] === undefined)
          throw new HttpProblem(400, `property "${key}" is required: topic "${t.name}" is scoped by it`);
    }
    if (body.user_id) this.store.registerUser(project, body.user_id);
    const run: RunRecord = {
      run_id: uuidv7(now),
      project: project.key,
      group: group.name,
      ...(body.user_id ? { user_id: body.user_id } : {}),
      properties,
      input_type: inputType,
      starting_step: inputType === 'pre_extracted' ? 2 : 1,
      status: 'running',
      items,
      ops: { created: [], updated: [], deleted: [] },
      created_at: now,
      updated_at: now,
      due_at: now + this.opts.runTimeMs,
    };
    this.store.addRun(run);
    return run;
  }

  /** Move every due, unpinned `running` run on, in due-time order, stamped with its due time. */
  settle(now: number): void {
    const due: RunRecord[] = [];
    for (const r of this.store.running) {
      if (r.status !== 'running') this.store.running.delete(r); // moved on (completed, failed, buffered)
      else if (r.pin === undefined && r.due_at <= now) due.push(r);
    }
    due.sort((a, b) => a.due_at - b.due_at);
    for (const run of due) this.advance(run, run.due_at);
  }

  private advance(run: RunRecord, at: number): void {
    if (run.items.length === 0) return this.fail(run, at, NO_USER_CONTENT);
    if (!findGroup(run.group)?.buffered) return this.commit(run, at);
    run.status = 'in_buffer';
    run.updated_at = at;
    this.store.touch();
    this.fireIfFull(run.project, run.group, at);
  }

  /** Unpinned runs waiting in the buffer of a project's group, in arrival order. */
  private buffered(group: string, project?: string): RunRecord[] {
    return [...this.store.runs.values()]
      .filter((r) => r.status === 'in_buffer' && r.pin === undefined && r.group === group)
      .filter((r) => project === undefined || r.project === project)
      .sort((a, b) => a.updated_at - b.updated_at);
  }

  private fireIfFull(project: string, group: string, at: number): void {
    const waiting = this.buffered(group, project);
    if (waiting.length >= this.opts.bufferTrigger) for (const r of waiting) this.commit(r, at);
  }

  /** Fire the buffer of `group` in every project now; returns how many runs completed. */
  flush(group: string, now: number): number {
    const waiting = this.buffered(group);
    for (const r of waiting) this.commit(r, now);
    return waiting.length;
  }

  /** Commit the run's items: identical memories (content, topic, scope) are updated, not duplicated. */
  private commit(run: RunRecord, at: number): void {
    const project = this.store.projects.get(run.project);
    const group = findGroup(run.group);
    if (project && group) {
      const touched = new Set<string>();
      for (const item of run.items) {
        const topic = topicOf(group, item.topic);
        if (!topic) continue;
        const user_key = topic.userScoped ? run.user_id?.toLowerCase() : undefined;
        const properties = scopeOf(topic, run.properties);
        let existing: MemoryRecord | undefined;
        let id: string;
        let content = item.content;
        if (topic.bounded) {
          id = nameUUID(project.project_id, group.name, topic.name, user_key ?? '', JSON.stringify(properties));
          existing = project.memories.get(id);
          if (existing && item.summary) content = mergeSummary(existing.content, item.content);
        } else {
          existing = findIdentical(project, group.name, topic.name, item.content, user_key, properties);
          id = existing?.id ?? randomId();
        }
        if (touched.has(id)) continue;
        touched.add(id);
        const op: CommitOp = { memory_id: id, committed_at: at };
        if (existing) {
          existing.content = content;
          existing.updated_at = at;
          run.ops.updated.push(op);
        } else {
          this.store.putMemory(project, {
            id,
            group: group.name,
            topic: topic.name,
            ...(user_key !== undefined ? { user_id: run.user_id, user_key } : {}),
            properties,
            content,
            created_at: at,
            updated_at: at,
          });
          run.ops.created.push(op);
        }
      }
    }
    run.items = [];
    run.status = 'completed';
    delete run.error;
    run.updated_at = at;
    this.store.touch();
  }

  private fail(run: RunRecord, at: number, error: string): void {
    run.status = 'failed';
    run.error = error;
    run.updated_at = at;
    this.store.touch();
  }

  // ---- control surface ----

  /** Commit now (whatever the run was doing). */
  complete(run: RunRecord, now: number): void {
    delete run.pin;
    if (run.status === 'completed') run.updated_at = now;
    else this.commit(run, now);
    this.store.touch();
  }

  /** Fail now with `error`. */
  failNow(run: RunRecord, now: number, error = FAILED_ON_PURPOSE): void {
    delete run.pin;
    this.fail(run, now, error);
  }

  /** Append `n` generated `created` operations (stable ids of no memory), for tests of huge runs. */
  addSynthetic(run: RunRecord, n: number, now: number): void {
    const start = run.ops.created.length;
    for (let i = 0; i < n; i++) run.ops.created.push({ memory_id: nameUUID(run.run_id, 'synthetic', String(start + i)), committed_at: now });
    run.updated_at = now;
    this.store.touch();
  }

  /** Show `status` and freeze the lifecycle until release(). */
  pin(run: RunRecord, status: string, now: number): void {
    run.pin = status;
    run.updated_at = now;
    this.store.touch();
  }

  /** Resume the normal lifecycle: an overdue run moves on at once, a full buffer fires. */
  release(run: RunRecord, now: number): void {
    if (run.pin === undefined) return;
    delete run.pin;
    run.updated_at = now;
    this.store.touch();
    if (run.status === 'running') {
      run.due_at = Math.max(run.due_at, now);
      this.settle(now);
    } else if (run.status === 'in_buffer') {
      this.fireIfFull(run.project, run.group, now);
    }
  }
}

function sameProps(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function findIdentical(
  project: Project,
  group: string,
  topic: string,
  content: string,
  userKey: string | undefined,
  properties: Record<string, string>,
): MemoryRecord | undefined {
  for (const m of project.memories.values())
    if (
      m.group === group &&
      m.topic === topic &&
      m.content === content &&
      m.user_key === userKey &&
      sameProps(m.properties, properties)
    )
      return m;
  return undefined;
}

/** The wire `Run` (without `$schema`). */
export function runView(project: Project | undefined, run: RunRecord): Record<string, unknown> {
  const status = run.pin ?? run.status;
  const group = findGroup(run.group);
  const ops = (list: CommitOp[]) => list.map((o) => ({ memory_id: o.memory_id, committed_at: iso(o.committed_at) }));
  return {
    run_id: run.run_id,
    status,
    group_id: project && group ? groupId(project, group) : '',
    ...(run.user_id !== undefined ? { user_id: run.user_id } : {}),
    starting_step: run.starting_step,
    input_type: run.input_type,
    committed_operations: { created: ops(run.ops.created), updated: ops(run.ops.updated), deleted: ops(run.ops.deleted) },
    ...(status === 'failed' && run.error !== undefined ? { error: run.error } : {}),
    created_at: iso(run.created_at),
    updated_at: iso(run.updated_at),
  };
}
