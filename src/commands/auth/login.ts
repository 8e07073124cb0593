import { AuthenticationError, EngramError, UsageError } from '../../api/errors.js';
import { checkKey, type Context } from '../../cli/context.js';
import { maskKey, saveConfig, type ConfigData } from '../../config/config.js';
import { readSecret } from '../../io/prompt.js';
import { decodeInput } from '../../input/text.js';
import { jsonDocument } from '../../output/format.js';

/**
 * `engram auth login`: read a key (hidden prompt on a terminal, else standard input, or
 * --api-key-file), check it with GET /v1/auth/verify, then store it in the profile.
 */
export async function authLogin(ctx: Context): Promise<number> {
  const prof = ctx.profileName();
  const base = ctx.baseUrlSource();
  ctx.baseUrl(); // validate before asking for anything
  const cfg = ctx.config();
  let key: string;
  if (ctx.globals.apiKeyFile !== undefined) {
    key = (await ctx.apiKey()).key;
  } else if (ctx.io.stdinTTY) {
    key = checkKey(
      await readSecret(ctx.io, `Engram API key for profile "${prof.name}" (input hidden): `, {
        noTTY: ['no terminal to ask for the key on', 'pipe it on standard input, e.g. engram auth login < key.txt'],
        signal: ctx.signal,
      }),
      'the prompt',
    );
  } else {
    const text = decodeInput(await ctx.readStdin('the API key'), 'standard input');
    key = checkKey(text, 'standard input');
  }
  if (!key.startsWith('eng_')) {
    throw new UsageError('that is not an Engram API key: keys start with eng_', 'copy the key from the Engram console (API Keys page)');
  }
  const client = await ctx.clientWithKey(key);
  try {
    await client.auth.verify();
  } catch (err) {
    if (err instanceof EngramError) {
      err.hints.push(
        err instanceof AuthenticationError
          ? `${client.baseUrl} rejected the key; nothing was saved`
          : `could not verify the key with ${client.baseUrl}; nothing was saved`,
      );
    }
    throw err;
  }
  const data: ConfigData = structuredClone(cfg.data);
  const existing = Object.hasOwn(data.profiles, prof.name) ? data.profiles[prof.name]! : {};
  const saveBase = base.source === '--base-url' || base.source === 'ENGRAM_BASE_URL';
  data.profiles[prof.name] = { ...existing, api_key: key, ...(saveBase ? { base_url: ctx.baseUrl() } : {}) };
  await saveConfig(cfg.path, data);
  const baseUrl = data.profiles[prof.name]!.base_url ?? ctx.baseUrl();
  if (ctx.format() === 'json') {
    ctx.io.stdout.write(jsonDocument({ profile: prof.name, key: maskKey(key), base_url: baseUrl, config_file: cfg.path, verified: true }));
  }
  ctx.info(`logged in: profile "${prof.name}", key ${maskKey(key)} verified with ${client.baseUrl}, saved in ${cfg.path}`);
  if (ctx.env.ENGRAM_API_KEY?.trim()) ctx.warn('ENGRAM_API_KEY is set in this environment and takes precedence over the stored key; unset it to use the profile');
  return 0;
}
