import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

type Env = Record<string, string | undefined>;

function home(env: Env): string {
  const h = env.HOME?.trim();
  return h ? h : homedir();
}

/** An XDG base directory: the variable if it is an absolute path (the spec says to ignore relative ones), else the fallback. */
function xdg(env: Env, name: string, fallback: string[]): string {
  const v = env[name]?.trim();
  if (v && isAbsolute(v)) return v;
  return join(home(env), ...fallback);
}

/** `$XDG_CONFIG_HOME/engram` (default `~/.config/engram`). */
export function configDir(env: Env): string {
  return join(xdg(env, 'XDG_CONFIG_HOME', ['.config']), 'engram');
}

export function configFile(env: Env): string {
  return join(configDir(env), 'config.json');
}

/** `$XDG_STATE_HOME/engram` (default `~/.local/state/engram`). */
export function stateDir(env: Env): string {
  return join(xdg(env, 'XDG_STATE_HOME', ['.local', 'state']), 'engram');
}

export function historyFile(env: Env): string {
  return join(stateDir(env), 'history.jsonl');
}
