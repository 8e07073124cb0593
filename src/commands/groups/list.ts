import type { Context } from '../../cli/context.js';
import { jsonDocument, ndjsonLine } from '../../output/format.js';
import { renderGroups } from '../../output/memories.js';

/** `engram groups list`: groups, their topics, scoping and boundedness. */
export async function groupsList(ctx: Context): Promise<number> {
  const format = ctx.format();
  const client = await ctx.client();
  const groups = await client.groups.list();
  if (format === 'json') ctx.io.stdout.write(jsonDocument({ groups }));
  else if (format === 'ndjson') ctx.io.stdout.write(groups.map(ndjsonLine).join(''));
  else if (groups.length === 0) ctx.info('no groups');
  else ctx.io.stdout.write(await renderGroups(groups, { format, theme: ctx.outTheme(), width: ctx.io.columns(), nowMs: ctx.clock.now() }));
  return 0;
}
