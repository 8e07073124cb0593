import type { Context } from '../../cli/context.js';
import { saveConfig, type ConfigData } from '../../config/config.js';

/** `engram auth logout`: remove the selected profile's key (other settings stay). */
export async function authLogout(ctx: Context): Promise<number> {
  const prof = ctx.profileName();
  const cfg = ctx.config();
  const p = Object.hasOwn(cfg.data.profiles, prof.name) ? cfg.data.profiles[prof.name] : undefined;
  if (!p || p.api_key === undefined) {
    ctx.info(`no key is stored for profile "${prof.name}"${cfg.exists ? ` in ${cfg.path}` : ''}; nothing to do`);
  } else {
    const data: ConfigData = structuredClone(cfg.data);
    const { api_key: _gone, ...rest } = data.profiles[prof.name]!;
    if (Object.keys(rest).length === 0) delete data.profiles[prof.name];
    else data.profiles[prof.name] = rest;
    await saveConfig(cfg.path, data);
    ctx.info(`removed the key of profile "${prof.name}" from ${cfg.path}`);
  }
  if (ctx.env.ENGRAM_API_KEY?.trim()) ctx.warn('ENGRAM_API_KEY is still set in this environment; unset it too to stop using that key');
  return 0;
}
