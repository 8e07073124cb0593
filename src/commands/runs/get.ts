import { EngramError, UserAbortError } from '../../api/errors.js';
import type { Run } from '../../api/types.js';
import { TERMINAL_STATUSES } from '../../api/types.js';
import type { Context } from '../../cli/context.js';
import { ExitCode, worstExitCode } from '../../cli/exit-codes.js';
import { ndjsonLine } from '../../output/format.js';
import { renderRuns } from '../../output/runs.js';
import { sanitize } from '../../output/sanitize.js';
import { limiter } from '../../wait/limit.js';
import { collectRunIds } from './ids.js';

export interface RunsGetOptions {
  exitStatus?: boolean;
}

export async function runsGet(ctx: Context, args: string[], opts: RunsGetOptions): Promise<number> {
  const ids = await collectRunIds(ctx, args);
  const format = ctx.format();
  const client = await ctx.client();
  const limit = limiter(8);
  const errors: Array<[string, EngramError]> = [];
  const found = new Map<string, Run>();
  await Promise.all(
    ids.map((id) =>
      limit(async () => {
        try {
          const run = await client.runs.get(id);
          found.set(id, run);
          if (format === 'ndjson') ctx.io.stdout.write(ndjsonLine(run));
        } catch (err) {
          if (!(err instanceof EngramError) || err instanceof UserAbortError) throw err;
          errors.push([id, err]);
        }
      }),
    ),
  );
  // A single failure of a single id is the command's error; with several ids, report each.
  if (ids.length === 1 && errors.length === 1) throw errors[0]![1];
  const runs = ids.filter((id) => found.has(id)).map((id) => found.get(id)!);
  // JSON for several ids is always an array, even an empty one, so `jq` never gets nothing.
  if (format !== 'ndjson' && (runs.length > 0 || (format === 'json' && ids.length > 1))) {
    ctx.io.stdout.write(renderRuns(runs, { format, theme: ctx.outTheme(), nowMs: ctx.clock.now() }, ids.length === 1));
  }
  const errTheme = ctx.errTheme();
  for (const [id, err] of errors) ctx.io.stderr.write(`${errTheme.c.red('error:')} run ${sanitize(id)}: ${sanitize(err.message)}\n`);
  const pending = runs.filter((r) => !TERMINAL_STATUSES.has(r.status));
  if (pending.length > 0 && !ctx.quiet) {
    ctx.io.stderr.write(
      `${pending.length === 1 ? 'the run is' : `${pending.length} runs are`} not finished; wait with: engram runs wait ${pending.map((r) => sanitize(r.run_id)).join(' ')}\n`,
    );
  }
  const codes = errors.map(([, e]) => e.exitCode);
  if (opts.exitStatus) {
    for (const r of runs) codes.push(r.status === 'completed' ? ExitCode.OK : r.status === 'failed' ? ExitCode.RUN_FAILED : ExitCode.TIMEOUT);
  }
  return worstExitCode(codes);
}
