import { UsageError } from '../../api/errors.js';
import type { ListRequest } from '../../api/types.js';
import { parseProperties } from '../../cli/flags.js';

/** The scope flags of get/delete/search/list/export. */
export interface ScopeFlags {
  userId?: string;
  group?: string;
  property?: string[];
  topic?: string[];
  conversationId?: string;
}

export function nonEmptyFlag(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError(`${flag} is empty`);
  return value;
}

/** --property k=v (repeatable) and --conversation-id X, merged. */
export function scopeProperties(o: Pick<ScopeFlags, 'property' | 'conversationId'>): Record<string, string> | undefined {
  const props = parseProperties(o.property);
  const conv = nonEmptyFlag(o.conversationId, '--conversation-id');
  if (conv === undefined) return props;
  if (props?.conversation_id !== undefined && props.conversation_id !== conv) {
    throw new UsageError('--conversation-id and --property conversation_id disagree', 'give one of them');
  }
  return { ...(props ?? {}), conversation_id: conv };
}

/** The body fields of search and list. */
export function filterBody(o: ScopeFlags): Omit<ListRequest, 'limit'> {
  const topics = (o.topic ?? []).map((t) => nonEmptyFlag(t, '--topic')!);
  return {
    user_id: nonEmptyFlag(o.userId, '--user-id'),
    group: nonEmptyFlag(o.group, '--group'),
    topics: topics.length > 0 ? [...new Set(topics)] : undefined,
    properties: scopeProperties(o),
  };
}

/** Query parameters of get and delete. */
export function scopeQuery(o: Pick<ScopeFlags, 'userId' | 'group'>): { user_id?: string; group?: string } {
  return { user_id: nonEmptyFlag(o.userId, '--user-id'), group: nonEmptyFlag(o.group, '--group') };
}
