import { UsageError } from '../../api/errors.js';
import type { Context } from '../../cli/context.js';
import { validateId } from '../../cli/flags.js';
import { decodeInput } from '../../input/text.js';

/** Run ids from arguments, or from stdin (one per line) when the only argument is `-`. */
export async function collectRunIds(ctx: Context, args: string[]): Promise<string[]> {
  if (args.includes('-')) {
    if (args.length !== 1) throw new UsageError('`-` (ids from standard input) cannot be mixed with run ids');
    const text = decodeInput(await ctx.readStdin('run ids (-)', { notice: 'reading run ids from standard input, one per line; end with Ctrl-D' }), 'standard input');
    const ids = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    if (ids.length === 0) throw new UsageError('no run ids on standard input', 'pipe one id per line, e.g. engram memories add … -q | engram runs wait -');
    return ids.map((id) => validateId(id, 'run id'));
  }
  if (args.length === 0) throw new UsageError('no run id given', 'pass one or more run ids, or - to read them from standard input');
  return args.map((id) => validateId(id, 'run id'));
}
