import type { Context } from '../../cli/context.js';
import { collectRunIds } from './ids.js';
import { parseWaitFlags, waitAndReport, type WaitFlags } from './wait-runner.js';

export async function runsWait(ctx: Context, args: string[], flags: WaitFlags): Promise<number> {
  const settings = parseWaitFlags(ctx, flags);
  const ids = await collectRunIds(ctx, args);
  return waitAndReport(ctx, ids, settings);
}
