import { NotFoundError } from '../../api/errors.js';
import type { Context } from '../../cli/context.js';
import { validateId } from '../../cli/flags.js';
import { jsonDocument, ndjsonLine } from '../../output/format.js';
import { renderMemoryDetail } from '../../output/memories.js';
import { scopeQuery } from './scope.js';

export interface GetOptions {
  userId?: string;
  group?: string;
}

/** `engram memories get <id>`: one memory. */
export async function memoriesGet(ctx: Context, id: string, o: GetOptions): Promise<number> {
  validateId(id, 'memory id');
  const scope = scopeQuery(o);
  const format = ctx.format();
  const client = await ctx.client();
  let m;
  try {
    m = await client.memories.get(id, scope);
  } catch (err) {
    if (err instanceof NotFoundError && scope.user_id === undefined) {
      err.hints.push('memories of user-scoped topics are found only with --user-id; add it if this one belongs to a user');
    }
    throw err;
  }
  if (format === 'json') ctx.io.stdout.write(jsonDocument(m));
  else if (format === 'ndjson') ctx.io.stdout.write(ndjsonLine(m));
  else ctx.io.stdout.write(renderMemoryDetail(m, { format, theme: ctx.outTheme(), width: ctx.io.columns(), nowMs: ctx.clock.now() }));
  return 0;
}
