import { EngramError, UserAbortError, NotFoundError, UsageError } from '../../api/errors.js';
import type { Context } from '../../cli/context.js';
import { ExitCode, worstExitCode } from '../../cli/exit-codes.js';
import { validateId } from '../../cli/flags.js';
import { confirm } from '../../io/prompt.js';
import { jsonDocument, ndjsonLine } from '../../output/format.js';
import { sanitize } from '../../output/sanitize.js';
import { limiter } from '../../wait/limit.js';
import { scopeQuery } from './scope.js';

export interface DeleteOptions {
  userId?: string;
  group?: string;
  yes?: boolean;
  ignoreMissing?: boolean;
}

interface Result {
  id: string;
  status: 'deleted' | 'not_found' | 'error';
  error: string | null;
  err?: EngramError;
}

/** `engram memories delete <id…>`: confirm (TTY) or --yes, then DELETE each. */
export async function memoriesDelete(ctx: Context, args: string[], o: DeleteOptions): Promise<number> {
  if (args.length === 0) throw new UsageError('no memory id given', 'pass one or more memory ids');
  const ids = [...new Set(args.map((id) => validateId(id, 'memory id')))];
  const scope = scopeQuery(o);
  const format = ctx.format();
  const what = ids.length === 1 ? `memory ${sanitize(ids[0]!)}` : `${ids.length} memories`;
  if (!o.yes) {
    const where = [scope.user_id !== undefined ? `user ${sanitize(scope.user_id)}` : '', scope.group !== undefined ? `group ${sanitize(scope.group)}` : '']
      .filter(Boolean)
      .join(', ');
    const ok = await confirm(ctx.io, `Delete ${what}${where ? ` (${where})` : ''}? This cannot be undone.`, {
      noTTY: [`refusing to delete ${what} without confirmation: standard input is not a terminal`, 'pass --yes to delete without asking'],
      signal: ctx.signal,
    });
    if (!ok) {
      ctx.io.stderr.write('not confirmed; nothing was deleted\n');
      return ExitCode.USAGE;
    }
  }
  const client = await ctx.client();
  const limit = limiter(4);
  const results = new Map<string, Result>();
  const errTheme = ctx.errTheme();
  await Promise.all(
    ids.map((id) =>
      limit(async () => {
        let r: Result;
        try {
          await client.memories.delete(id, scope);
          r = { id, status: 'deleted', error: null };
        } catch (err) {
          if (!(err instanceof EngramError) || err instanceof UserAbortError) throw err;
          r = err instanceof NotFoundError ? { id, status: 'not_found', error: err.message, err } : { id, status: 'error', error: err.message, err };
        }
        results.set(id, r);
        if (format === 'ndjson') ctx.io.stdout.write(ndjsonLine(publicResult(r, o)));
      }),
    ),
  );
  const ordered = ids.map((id) => results.get(id)!);
  const failed = ordered.filter((r) => r.err && !(r.status === 'not_found' && o.ignoreMissing));
  // One id that failed: that error is the command's error (its message, hints and exit code).
  if (ids.length === 1 && failed.length === 1) {
    const err = failed[0]!.err!;
    if (err instanceof NotFoundError) {
      err.hints.push(`${scope.user_id === undefined ? 'memories of user-scoped topics need --user-id; ' : ''}pass --ignore-missing to treat a missing memory as deleted`);
    }
    throw err;
  }
  if (format === 'json') ctx.io.stdout.write(jsonDocument(ids.length === 1 ? publicResult(ordered[0]!, o) : ordered.map((r) => publicResult(r, o))));
  else if (format !== 'ndjson') {
    const tty = format === 'table';
    const t = ctx.outTheme();
    for (const r of ordered) {
      if (r.err && !(r.status === 'not_found' && o.ignoreMissing)) continue;
      const label = r.status === 'deleted' ? 'deleted' : 'not found (ignored)';
      ctx.io.stdout.write(tty ? `${r.status === 'deleted' ? t.c.green('✓') : t.c.dim('-')} ${label} ${sanitize(r.id)}\n` : `${sanitize(r.id)}\t${r.status}\n`);
    }
  }
  for (const r of failed) ctx.io.stderr.write(`${errTheme.c.red('error:')} memory ${sanitize(r.id)}: ${sanitize(r.error ?? '')}\n`);
  return worstExitCode(failed.map((r) => r.err!.exitCode));
}

function publicResult(r: Result, o: DeleteOptions): Record<string, unknown> {
  const ignored = r.status === 'not_found' && !!o.ignoreMissing;
  return { id: r.id, status: r.status, ...(ignored ? { ignored: true } : {}), error: r.error };
}
