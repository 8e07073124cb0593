/** Wire types of the Engram REST API (see engram-api.md). Unknown server fields are kept. */

export type RunStatus = 'running' | 'in_buffer' | 'completed' | 'failed';
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed']);
export const KNOWN_STATUSES: ReadonlySet<string> = new Set(['running', 'in_buffer', 'completed', 'failed']);

export interface CommittedOperation {
  memory_id: string;
  committed_at: string;
  [k: string]: unknown;
}

export interface CommittedOperations {
  created: CommittedOperation[];
  updated: CommittedOperation[];
  deleted: CommittedOperation[];
}

export interface Run {
  run_id: string;
  /** A string, not only RunStatus: unknown values must survive and are treated as non-terminal. */
  status: string;
  group_id?: string | null;
  starting_step?: number | null;
  input_type?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
  user_id?: string | null;
  committed_operations: CommittedOperations;
  error?: string | null;
  [k: string]: unknown;
}

export interface RunOutput {
  run_id: string;
  status: string;
  error?: string;
  [k: string]: unknown;
}

export interface ToolCallInput {
  id: string;
  type: 'function' | 'custom';
  function?: { name: string; arguments: string };
  custom?: { name: string; input: string };
}

export type Role = 'user' | 'assistant' | 'system' | 'tool' | 'developer';
export const ROLES: readonly Role[] = ['user', 'assistant', 'system', 'tool', 'developer'];

export interface MessageInput {
  role: Role;
  content?: string;
  created_at?: string;
  tool_call_id?: string;
  name?: string;
  tool_calls?: ToolCallInput[];
}

export interface ConversationInput {
  messages: MessageInput[];
  metadata?: Record<string, unknown>;
  created_at?: string;
  updated_at?: string;
}

export interface PreExtractedItem {
  content: string;
  topic: string;
}

export type Input =
  | { string: { content: string[]; created_at?: string; updated_at?: string } }
  | { conversation: ConversationInput }
  | { pre_extracted: { items: PreExtractedItem[] } };

export interface CreateMemoryRequest {
  input: Input;
  user_id?: string;
  group?: string;
  properties?: Record<string, string>;
  root?: string;
}

export interface Memory {
  id: string;
  project_id: string;
  content: string;
  topic: string;
  group: string;
  created_at: string;
  updated_at: string;
  user_id?: string;
  properties?: Record<string, string>;
  score?: number;
  [k: string]: unknown;
}

export interface MemoryList {
  memories: Memory[];
  total: number;
}

export interface TopicScoping {
  user_scoped: boolean;
  scope_properties: string[];
}

export interface Topic {
  topic_name: string;
  description: string;
  is_bounded: boolean;
  scoping: TopicScoping;
}

export interface Group {
  group_id: string;
  name: string;
  topics: Topic[];
}

export type TopicFilter = string | { name: string; properties?: Record<string, string | null> };

export interface SearchRequest {
  query: string;
  retrieval_config?: { retrieval_type: RetrievalType; limit?: number };
  topics?: TopicFilter[];
  user_id?: string;
  properties?: Record<string, string>;
  group?: string;
}

export interface ListRequest {
  user_id?: string;
  group?: string;
  topics?: TopicFilter[];
  properties?: Record<string, string>;
  limit?: number;
}

/** The retrieval types of a search (`retrieval_config.retrieval_type`). */
export const RETRIEVAL_TYPES = ['hybrid', 'vector', 'bm25', 'fetch'] as const;
export type RetrievalType = (typeof RETRIEVAL_TYPES)[number];

/** An RFC 3339 timestamp as the API's `date-time` fields take it (2026-12-03T10:00:00Z, …+01:00). */
export function isRfc3339(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(s) && !Number.isNaN(Date.parse(s));
}
