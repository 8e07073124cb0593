import type { Context } from '../../cli/context.js';
import { parseIntInRange } from '../../cli/flags.js';
import { filterBody, type ScopeFlags } from './scope.js';
import { API_CEILING, printMemories } from './search.js';

export interface ListOptions extends ScopeFlags {
  limit?: string;
}

/** `engram memories list`: unranked, at most 100 (the API's ceiling; no pagination). */
export async function memoriesList(ctx: Context, o: ListOptions): Promise<number> {
  const limit = o.limit === undefined ? 20 : parseIntInRange(o.limit, '--limit', 1, API_CEILING);
  const body = { ...filterBody(o), limit };
  const client = await ctx.client();
  const list = await client.memories.list(body);
  await printMemories(ctx, list, 'list');
  const n = list.memories.length;
  if (n === 0) ctx.info('no memories found');
  else if (n >= API_CEILING) {
    ctx.warn(
      `${n} memories: the API's ceiling for one list (it has no pagination), so there may be more. ` +
        'Narrow with --topic, --property or --user-id, or use `engram memories export`, which lists slice by slice',
    );
  } else if (n >= limit) {
    ctx.info(`showing the first ${limit}; raise --limit (up to ${API_CEILING}) for more`);
  }
  return 0;
}
