import { AuthConfigError, AuthenticationError, EngramError, UserAbortError, PermissionDeniedError } from '../../api/errors.js';
import type { Context } from '../../cli/context.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { maskKey } from '../../config/config.js';
import { detailLines, type DetailRow } from '../../output/detail.js';
import { jsonDocument, ndjsonLine } from '../../output/format.js';
import { sanitize } from '../../output/sanitize.js';

/**
 * `engram auth status`: which profile, key (masked) and base URL are in effect and where each
 * comes from, and whether the service accepts the key. Exit 0 valid, 4 no key or rejected,
 * 7 the service could not be asked.
 */
export async function authStatus(ctx: Context): Promise<number> {
  const prof = ctx.profileName();
  const base = ctx.baseUrlSource();
  const baseUrl = ctx.baseUrl();
  const cfg = ctx.config();
  let key: { key: string; source: string } | undefined;
  let keyError: EngramError | undefined;
  try {
    key = await ctx.apiKey();
  } catch (err) {
    if (!(err instanceof AuthConfigError)) throw err;
    keyError = err;
  }
  let verified: boolean | null = null;
  let verifyError: EngramError | undefined;
  if (key) {
    try {
      await (await ctx.clientWithKey(key.key)).auth.verify();
      verified = true;
    } catch (err) {
      if (!(err instanceof EngramError) || err instanceof UserAbortError) throw err;
      verifyError = err;
      verified = err instanceof AuthenticationError || err instanceof PermissionDeniedError ? false : null;
    }
  }
  const code = !key ? ExitCode.AUTH : verified ? ExitCode.OK : (verifyError?.exitCode ?? ExitCode.UNAVAILABLE);
  const format = ctx.format();
  if (format === 'json' || format === 'ndjson') {
    const doc = {
      profile: prof.name,
      profile_source: prof.source,
      key: key ? maskKey(key.key) : null,
      key_source: key ? key.source : null,
      base_url: baseUrl,
      base_url_source: base.source,
      config_file: cfg.path,
      config_exists: cfg.exists,
      verified,
      error: keyError?.message ?? verifyError?.message ?? null,
    };
    ctx.io.stdout.write(format === 'json' ? jsonDocument(doc) : ndjsonLine(doc));
    return code;
  }
  const tty = format === 'table';
  const t = ctx.outTheme();
  const from = (s: string) => (tty ? t.c.dim(`(from ${s})`) : `(from ${s})`);
  const verifyText = !key
    ? '-'
    : verified
      ? `${tty ? t.c.green('✓') + ' ' : ''}the key is valid`
      : verified === false
        ? `${tty ? t.c.red('✗') + ' ' : ''}rejected: ${sanitize(verifyError?.message ?? '')}`
        : `${tty ? t.c.yellow('!') + ' ' : ''}could not check: ${sanitize(verifyError?.message ?? '')}`;
  const rows: DetailRow[] = [
    ['Profile', 'profile', prof.source === 'default' ? `${sanitize(prof.name)}` : `${sanitize(prof.name)} ${from(prof.source)}`],
    ['Key', 'key', key ? `${maskKey(key.key)} ${from(sanitize(key.source))}` : 'none'],
    ['Base URL', 'base_url', base.source === 'default' ? `${sanitize(baseUrl)} (default)` : `${sanitize(baseUrl)} ${from(base.source)}`],
    ['Config file', 'config_file', `${sanitize(cfg.path)}${cfg.exists ? '' : ' (does not exist yet)'}`],
    ['Verified', 'verified', verifyText],
  ];
  ctx.io.stdout.write(detailLines(rows, t, tty).join('\n') + '\n');
  if (keyError) ctx.io.stderr.write(`${ctx.errTheme().c.red('error:')} ${sanitize(keyError.message)}\n`);
  return code;
}
