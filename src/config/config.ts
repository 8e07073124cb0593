import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../api/errors.js';
import { isObject } from '../core/json.js';
import { errnoCode } from '../io/errno.js';

/**
 * The config file: named profiles, each with an API key and optionally a base URL.
 *
 *   { "profiles": { "default": { "api_key": "eng_…", "base_url": "http://127.0.0.1:4680" } } }
 *
 * Mode 0600 in a 0700 directory, rewritten atomically (temp file created 0600, fsync, rename).
 * Fields we do not know are kept when the file is rewritten.
 */

export interface Profile {
  api_key?: string;
  base_url?: string;
  [k: string]: unknown;
}

export interface ConfigData {
  profiles: Record<string, Profile>;
  [k: string]: unknown;
}

export interface LoadedConfig {
  path: string;
  exists: boolean;
  data: ConfigData;
  /** The permission bits when the file is readable by group or others (e.g. 0o644), else undefined. */
  looseMode?: number;
}

export const DEFAULT_PROFILE = 'default';
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkProfileName(name: string, source: string): string {
  if (!PROFILE_NAME.test(name)) {
    throw new UsageError(
      `invalid profile name ${JSON.stringify(name)} (from ${source})`,
      'use letters, digits, dot, dash and underscore, starting with a letter or digit',
    );
  }
  return name;
}

/** Read the config file (synchronously: it is tiny and needed before the first request). */
export function loadConfig(path: string): LoadedConfig {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { path, exists: false, data: { profiles: {} } };
    throw new UsageError(`cannot read the config file ${path}: ${code ?? (err as Error).message}`, 'check its permissions');
  }
  let data: unknown;
  try {
    data = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the config file ${path} is not valid JSON (${(err as Error).message})`, 'fix it, or delete it and run engram auth login again');
  }
  if (!isObject(data)) throw new UsageError(`the config file ${path} must hold a JSON object`, 'fix it, or delete it and run engram auth login again');
  const profiles = data.profiles === undefined ? {} : data.profiles;
  if (!isObject(profiles)) throw new UsageError(`the config file ${path}: "profiles" must be an object`);
  for (const [name, p] of Object.entries(profiles)) {
    if (!isObject(p)) throw new UsageError(`the config file ${path}: profile ${JSON.stringify(name)} must be an object`);
    for (const k of ['api_key', 'base_url'] as const) {
      if (p[k] !== undefined && typeof p[k] !== 'string') {
        throw new UsageError(`the config file ${path}: profiles.${name}.${k} must be a string`);
      }
    }
  }
  return {
    path,
    exists: true,
    data: { ...data, profiles: profiles as Record<string, Profile> },
    looseMode: (mode & 0o077) !== 0 ? mode : undefined,
  };
}

/** Write the whole config atomically with mode 0600 (directory 0700); a failure is a one-line UsageError. */
export async function saveConfig(path: string, data: ConfigData): Promise<void> {
  // Loaded here, not at start-up: every command reads the config, only auth writes it.
  const { writeFileAtomic } = await import('../io/atomic.js');
  try {
    await writeFileAtomic(path, JSON.stringify(data, null, 2) + '\n', { mode: 0o600, mkdirMode: 0o700 });
  } catch (err) {
    throw new UsageError(`cannot write the config file ${path}: ${errnoCode(err)}`, 'check that its directory is writable');
  }
}

/** `eng_…` and the last four characters; never more of the key. */
export function maskKey(key: string): string {
  const prefix = key.startsWith('eng_') ? 'eng_' : '';
  return key.length >= 12 ? `${prefix}…${key.slice(-4)}` : `${prefix}…`;
}
