import { stat } from 'node:fs/promises';
import { EngramError, UsageError, UserAbortError } from '../../api/errors.js';
import type { Group, ListRequest, Topic } from '../../api/types.js';
import type { Context } from '../../cli/context.js';
import { AtomicWriter } from '../../io/atomic.js';
import { errnoCode } from '../../io/errno.js';
import { sanitize } from '../../output/sanitize.js';
import { nonEmptyFlag, scopeProperties } from './scope.js';
import { API_CEILING } from './search.js';

export interface ExportOptions {
  userId?: string[];
  group?: string[];
  topic?: string[];
  property?: string[];
  conversationId?: string;
  out?: string;
}

/** One list call: a topic of a group, for one user when the topic is user-scoped. */
export interface Slice {
  group: string;
  topic: string;
  user_id?: string;
  properties?: Record<string, string>;
  /** Scope properties of the topic: how a slice that hits the ceiling can be narrowed. */
  narrowBy: string[];
}

export function sliceName(s: Slice): string {
  const parts = [`group "${s.group}"`, `topic "${s.topic}"`];
  if (s.user_id !== undefined) parts.push(`user "${s.user_id}"`);
  for (const [k, v] of Object.entries(s.properties ?? {})) parts.push(`${k}=${v}`);
  return sanitize(parts.join(', '));
}

export interface Plan {
  slices: Slice[];
  /** `group/topic` of user-scoped topics skipped for want of --user-id. */
  skipped: string[];
}

/**
 * Which list calls cover everything reachable with the given scope: every selected topic of
 * every selected group, once per user for user-scoped topics. A --property applies to the
 * topics scoped by its key (as in the API).
 */
export function planExport(groups: Group[], o: { users: string[]; groups?: string[]; topics?: string[]; properties?: Record<string, string> }): Plan {
  const names = groups.map((g) => g.name);
  for (const g of o.groups ?? []) {
    if (!names.includes(g)) throw new UsageError(`no group named ${JSON.stringify(g)}`, `groups: ${names.map((n) => sanitize(n)).join(', ')}`);
  }
  const chosen = o.groups ? groups.filter((g) => o.groups!.includes(g.name)) : groups;
  const topicsOf = (g: Group): Topic[] => (o.topics ? g.topics.filter((t) => o.topics!.includes(t.topic_name)) : g.topics);
  for (const t of o.topics ?? []) {
    if (!chosen.some((g) => g.topics.some((x) => x.topic_name === t))) {
      const all = [...new Set(chosen.flatMap((g) => g.topics.map((x) => x.topic_name)))];
      throw new UsageError(`no topic named ${JSON.stringify(t)} in the selected groups`, `topics: ${all.map((n) => sanitize(n)).join(', ')}`);
    }
  }
  const props = o.properties ?? {};
  for (const key of Object.keys(props)) {
    if (!chosen.some((g) => topicsOf(g).some((t) => t.scoping.scope_properties.includes(key)))) {
      throw new UsageError(`no selected topic is scoped by the property ${JSON.stringify(key)}`, 'see the scope properties with: engram groups list');
    }
  }
  const slices: Slice[] = [];
  const skipped: string[] = [];
  for (const g of chosen) {
    for (const t of topicsOf(g)) {
      const own: Record<string, string> = {};
      for (const k of t.scoping.scope_properties) if (props[k] !== undefined) own[k] = props[k];
      const base = {
        group: g.name,
        topic: t.topic_name,
        ...(Object.keys(own).length > 0 ? { properties: own } : {}),
        narrowBy: t.scoping.scope_properties.filter((k) => own[k] === undefined),
      };
      if (!t.scoping.user_scoped) slices.push(base);
      else if (o.users.length === 0) skipped.push(`${g.name}/${t.topic_name}`);
      else for (const u of o.users) slices.push({ ...base, user_id: u });
    }
  }
  return { slices, skipped };
}

function ceilingAdvice(s: Slice): string {
  if (s.narrowBy.length > 0) {
    return `narrow it with ${s.narrowBy.map((k) => `--property ${k}=…`).join(' or ')} (one export per value) so each slice stays under ${API_CEILING}`;
  }
  return `the API has no narrower filter for this topic, so at most ${API_CEILING} of its memories can be read; delete ones you have kept safely and export again to reach the rest`;
}

/**
 * `engram memories export`: every memory reachable with the given scope as JSONL, each once.
 * With --out the file appears only when the export is complete (temp file, fsync, rename).
 */
export async function memoriesExport(ctx: Context, o: ExportOptions): Promise<number> {
  const users: string[] = [];
  const seenUsers = new Set<string>();
  for (const u of o.userId ?? []) {
    const v = nonEmptyFlag(u, '--user-id')!;
    if (!seenUsers.has(v.toLowerCase())) users.push(v); // user ids are case-insensitive
    seenUsers.add(v.toLowerCase());
  }
  const groups = o.group?.map((g) => nonEmptyFlag(g, '--group')!);
  const topics = o.topic?.map((t) => nonEmptyFlag(t, '--topic')!);
  const properties = scopeProperties({ property: o.property, conversationId: o.conversationId });
  if (ctx.globals.json || ctx.globals.output === 'json') {
    throw new UsageError('export writes JSONL (one memory per line), not one JSON document', 'drop --json; read it with jq -s . if you need an array');
  }
  const out = nonEmptyFlag(o.out, '--out');
  if (out !== undefined && out !== '-') {
    const st = await stat(out).catch(() => undefined);
    if (st?.isDirectory()) throw new UsageError(`--out ${out} is a directory`, 'give a file name, e.g. --out memories.jsonl');
  }
  const client = await ctx.client();

  // Open the temp file first: an unwritable destination fails before any request.
  let writer: AtomicWriter | undefined;
  if (out !== undefined && out !== '-') {
    try {
      writer = await AtomicWriter.open(out, { mode: 0o600 });
    } catch (err) {
      const code = errnoCode(err);
      throw new UsageError(`cannot write --out ${out}: ${code === 'ENOENT' ? 'no such directory' : code}`);
    }
  }
  const emit = async (line: string) => {
    if (writer) await writer.write(line);
    else ctx.io.stdout.write(line);
  };

  let count = 0;
  let current: Slice | undefined;
  try {
    const plan = planExport(await client.groups.list(), { users, groups, topics, properties });
    if (plan.skipped.length > 0) {
      const msg = `skipped user-scoped topic${plan.skipped.length > 1 ? 's' : ''} ${plan.skipped.map((s) => sanitize(s)).join(', ')}: their memories belong to users, and the API lists them only per user`;
      if (plan.slices.length === 0) throw new UsageError(`nothing to export: ${msg}`, 'pass --user-id (repeatable) for each user to export');
      ctx.warn(`${msg}; pass --user-id (repeatable) to export them`);
    }
    const seen = new Set<string>();
    let full = 0;
    for (const slice of plan.slices) {
      current = slice;
      const body: ListRequest = {
        group: slice.group,
        topics: [slice.topic],
        user_id: slice.user_id,
        properties: slice.properties,
        limit: API_CEILING,
      };
      const list = await client.memories.list(body);
      let fresh = 0;
      for (const m of list.memories) {
        if (seen.has(m.id)) continue; // normalizeList guarantees every memory a string id
        seen.add(m.id);
        fresh++;
        await emit(JSON.stringify(m) + '\n');
      }
      count += fresh;
      ctx.debug(`export: ${sliceName(slice)}: ${list.memories.length} listed, ${fresh} new`);
      if (list.memories.length >= API_CEILING) {
        full++;
        ctx.warn(`${sliceName(slice)}: ${list.memories.length} memories, the API's ceiling for one list: there may be more that this export does not contain; ${ceilingAdvice(slice)}`);
      }
    }
    current = undefined;
    if (writer) await writer.commit();
    const where = writer ? ` to ${out}` : '';
    const incomplete = full > 0 ? `; ${full} slice${full > 1 ? 's' : ''} hit the ${API_CEILING}-result ceiling and may be incomplete (see above)` : '';
    ctx.info(`exported ${count} memor${count === 1 ? 'y' : 'ies'} from ${plan.slices.length} slice${plan.slices.length === 1 ? '' : 's'}${where}${incomplete}`);
    return 0;
  } catch (err) {
    if (writer) await writer.abort();
    if (err instanceof UserAbortError && err.signalName !== 'SIGPIPE') {
      // Interrupts print nothing of their own: say here what state the export is in.
      ctx.io.stderr.write(
        writer
          ? `export interrupted: ${out} was not written (any previous file is unchanged)\n`
          : `export interrupted after ${count} memories: the output is incomplete\n`,
      );
    }
    if (err instanceof EngramError && current) err.hints.push(`while exporting ${sliceName(current)}`);
    if (err instanceof EngramError && !(err instanceof UsageError)) {
      err.hints.push(writer ? `export failed; ${out} was not written (any previous file is unchanged)` : `export failed after ${count} memories; the output above is incomplete`);
    }
    throw err;
  }
}
