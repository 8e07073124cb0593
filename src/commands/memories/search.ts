import { UsageError } from '../../api/errors.js';
import { RETRIEVAL_TYPES, type MemoryList, type RetrievalType, type SearchRequest } from '../../api/types.js';
import type { Context } from '../../cli/context.js';
import { parseIntInRange } from '../../cli/flags.js';
import { jsonDocument, ndjsonLine } from '../../output/format.js';
import { listColumns, searchColumns } from '../../output/memories.js';
import { renderTable } from '../../output/table.js';
import { filterBody, type ScopeFlags } from './scope.js';

/** The API's ceiling for one search or list; there is no pagination. */
export const API_CEILING = 100;

export interface SearchOptions extends ScopeFlags {
  type?: string;
  limit?: string;
}

/** Print a MemoryList in the chosen format. */
export async function printMemories(ctx: Context, list: MemoryList, kind: 'search' | 'list'): Promise<void> {
  const format = ctx.format();
  if (format === 'json') return void ctx.io.stdout.write(jsonDocument(list));
  if (format === 'ndjson') return void ctx.io.stdout.write(list.memories.map(ndjsonLine).join(''));
  const o = { format, theme: ctx.outTheme(), width: ctx.io.columns(), nowMs: ctx.clock.now() };
  if (list.memories.length === 0) return;
  ctx.io.stdout.write(await renderTable(list.memories, kind === 'search' ? searchColumns() : listColumns(o), o));
}

/** `engram memories search <query>`. */
export async function memoriesSearch(ctx: Context, query: string, o: SearchOptions): Promise<number> {
  if (query.trim() === '') throw new UsageError('the search query is empty', 'give some words to search for (the fetch type ignores them, but the API still needs one)');
  const type = o.type ?? 'hybrid';
  if (!(RETRIEVAL_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`invalid --type ${JSON.stringify(type)}`, `use one of: ${RETRIEVAL_TYPES.join(', ')}`);
  }
  const limit = o.limit === undefined ? 10 : parseIntInRange(o.limit, '--limit', 1, API_CEILING);
  const body: SearchRequest = { query, ...filterBody(o), retrieval_config: { retrieval_type: type as RetrievalType, limit } };
  const client = await ctx.client();
  const list = await client.memories.search(body);
  await printMemories(ctx, list, 'search');
  if (list.memories.length === 0) {
    ctx.info(type === 'bm25' ? 'no memories found (bm25 needs a word in common with the query; try --type hybrid)' : 'no memories found');
  } else if (list.memories.length >= limit && limit < API_CEILING) {
    ctx.info(`showing the top ${limit}; raise --limit (up to ${API_CEILING}) for more`);
  }
  return 0;
}
