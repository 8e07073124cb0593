import { RETRIEVAL_TYPES, type ListRequest, type RetrievalType, type TopicFilter } from '../api/types.js';
import { HttpProblem } from './http.js';
import {
  checkPropertyKeys,
  memoryView,
  requireGroup,
  requireTopic,
  scopeOf,
  topicOf,
  type GroupDef,
  type MemoryRecord,
  type Project,
  type Store,
  type TopicDef,
} from './store.js';

/** Search and list: scope filters, then BM25, a local embedding, their hybrid, or recency. */


export interface SearchBody extends Omit<ListRequest, 'limit'> {
  query: string;
  retrieval_config?: { retrieval_type: string; limit?: number | null };
}

export interface ListBody extends Omit<ListRequest, 'limit'> {
  limit?: number | null;
}

// ---- text scoring ----

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/** Okapi BM25 of `query` against each document, with the non-negative IDF ln(1 + (N − n + ½)/(n + ½)). */
export function bm25(query: string, docs: readonly string[], k1 = BM25_K1, b = BM25_B): number[] {
  const terms = [...new Set(tokenize(query))];
  const tokens = docs.map(tokenize);
  const n = docs.length;
  if (n === 0 || terms.length === 0) return docs.map(() => 0);
  const avgdl = tokens.reduce((s, t) => s + t.length, 0) / n || 1;
  const idf = new Map(
    terms.map((term) => {
      const df = tokens.filter((t) => t.includes(term)).length;
      return [term, Math.log(1 + (n - df + 0.5) / (df + 0.5))];
    }),
  );
  return tokens.map((doc) => {
    const tf = new Map<string, number>();
    for (const t of doc) tf.set(t, (tf.get(t) ?? 0) + 1);
    let score = 0;
    for (const term of terms) {
      const f = tf.get(term) ?? 0;
      if (f > 0) score += idf.get(term)! * ((f * (k1 + 1)) / (f + k1 * (1 - b + (b * doc.length) / avgdl)));
    }
    return score;
  });
}

export const EMBEDDING_DIMS = 512;

/** FNV-1a, 32-bit. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A deterministic local embedding: hashed word features (weight 1) plus character trigrams of
 * each padded word (weight ½), in a fixed-size, L2-normalised, non-negative vector.
 */
export function embed(text: string, dims = EMBEDDING_DIMS): Float64Array {
  const v = new Float64Array(dims);
  for (const word of tokenize(text)) {
    v[hash(`w:${word}`) % dims]! += 1;
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) v[hash(`t:${padded.slice(i, i + 3)}`) % dims]! += 0.5;
  }
  const norm = Math.hypot(...v);
  if (norm > 0) for (let i = 0; i < dims; i++) v[i]! /= norm;
  return v;
}

/** Cosine similarity of two normalised non-negative vectors, in [0, 1]. */
export function cosine(a: Float64Array, b: Float64Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return Math.min(1, Math.max(0, dot));
}

/** Weight of the vector side in hybrid scores (the BM25 side is max-normalised first). */
export const HYBRID_ALPHA = 0.5;

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Most recent first; ties by id so the order is stable. */
function byRecency(a: MemoryRecord, b: MemoryRecord): number {
  return b.updated_at - a.updated_at || b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

interface Scored {
  memory: MemoryRecord;
  score?: number;
}

export function rank(type: RetrievalType, query: string, memories: MemoryRecord[], limit: number): Scored[] {
  const sorted = [...memories].sort(byRecency);
  if (type === 'fetch') return sorted.slice(0, limit).map((memory) => ({ memory }));
  const docs = sorted.map((m) => m.content);
  const lexical = bm25(query, docs);
  const q = embed(query);
  const vector = () => docs.map((d) => cosine(q, embed(d)));
  let scores: number[];
  if (type === 'bm25') scores = lexical;
  else if (type === 'vector') scores = vector();
  else {
    const max = Math.max(0, ...lexical);
    const vec = vector();
    scores = lexical.map((s, i) => (1 - HYBRID_ALPHA) * (max > 0 ? s / max : 0) + HYBRID_ALPHA * vec[i]!);
  }
  return sorted
    .map((memory, i) => ({ memory, score: round(scores[i]!) }))
    .filter((s) => type !== 'bm25' || s.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
}

// ---- scope filters ----

interface Selection {
  /** topic name → the property filter that applies to it. */
  topics: Map<string, Record<string, string>>;
  userKey?: string;
  group: GroupDef;
}

/**
 * Resolve group, topics (strings or `{name, properties}` overrides, `null` clearing a global
 * key), the global property filter (a key applies to the topics scoped by it) and the user.
 */
function select(store: Store, project: Project, body: Omit<ListBody, 'limit'>): Selection {
  const group = requireGroup(body.group, 'body.group');
  const global = body.properties ?? {};
  checkPropertyKeys(group, global);
  const entries: { topic: TopicDef; override?: Record<string, string | null> }[] = body.topics
    ? body.topics.map((f: TopicFilter, i) => {
        const name = typeof f === 'string' ? f : f.name;
        const topic = requireTopic(group, name, typeof f === 'string' ? `body.topics[${i}]` : `body.topics[${i}].name`);
        const override = typeof f === 'string' ? undefined : f.properties;
        for (const key of Object.keys(override ?? {}))
          if (!topic.scopeProperties.includes(key))
            throw new HttpProblem(400, `property "${key}" is not a scope property of topic "${topic.name}"`);
        return { topic, override };
      })
    : group.topics.map((topic) => ({ topic }));
  const topics = new Map<string, Record<string, string>>();
  for (const { topic, override } of entries) {
    const filter = { ...scopeOf(topic, global) };
    for (const [k, v] of Object.entries(override ?? {})) {
      if (v === null) delete filter[k];
      else filter[k] = v;
    }
    topics.set(topic.name, filter);
  }
  const userScoped = entries.find((e) => e.topic.userScoped);
  if (userScoped && !body.user_id)
    throw new HttpProblem(400, `user_id is required: topic "${userScoped.topic.name}" is user-scoped`);
  if (body.user_id) store.requireUser(project, body.user_id);
  return { topics, userKey: body.user_id?.toLowerCase(), group };
}

function candidates(project: Project, sel: Selection): MemoryRecord[] {
  return [...project.memories.values()].filter((m) => {
    const filter = sel.topics.get(m.topic);
    if (m.group !== sel.group.name || !filter) return false;
    const topic = topicOf(sel.group, m.topic);
    if (topic?.userScoped && m.user_key !== sel.userKey) return false;
    return Object.entries(filter).every(([k, v]) => m.properties[k] === v);
  });
}

function listResult(project: Project, found: Scored[]) {
  return {
    memories: found.map((s) => ({ ...memoryView(project, s.memory), ...(s.score !== undefined ? { score: s.score } : {}) })),
    total: found.length,
  };
}

/** POST /v1/memories/search (body already schema-checked). */
export function searchMemories(store: Store, project: Project, body: SearchBody) {
  const type = body.retrieval_config?.retrieval_type ?? 'hybrid';
  if (!(RETRIEVAL_TYPES as readonly string[]).includes(type))
    throw new HttpProblem(400, `unknown retrieval_type "${type}": use one of ${RETRIEVAL_TYPES.join(', ')}`);
  const sel = select(store, project, body);
  const found = candidates(project, sel);
  return listResult(project, rank(type as RetrievalType, body.query, found, body.retrieval_config?.limit ?? 10));
}

/** POST /v1/memories/list: the same filters, most recent first. */
export function listMemories(store: Store, project: Project, body: ListBody) {
  const sel = select(store, project, body);
  const found = candidates(project, sel);
  return listResult(project, rank('fetch', '', found, body.limit ?? 20));
}
