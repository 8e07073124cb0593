import { AuthConfigError, UsageError } from '../api/errors.js';
import type { EngramClient } from '../api/client.js';
import type { Clock, Random } from '../core/clock.js';
import { COLOR_MODES, colorEnabled, type ColorMode, type IOStreams } from '../io/streams.js';
import { resolveFormat, type OutputFormat } from '../output/format.js';
import { makeTheme, type Theme } from '../output/theme.js';
import { version } from '../version.js';
import { parseDuration } from './flags.js';
import { checkProfileName, DEFAULT_PROFILE, loadConfig, type LoadedConfig, type Profile } from '../config/config.js';
import { configFile } from '../config/paths.js';
import { redactStream, Secrets } from '../io/redact.js';
import { sanitize } from '../output/sanitize.js';

export const DEFAULT_BASE_URL = 'https://api.engram.weaviate.io';

/** Everything a command may use; tests build one with in-memory IO and a virtual clock. */
export interface Deps {
  io: IOStreams;
  clock: Clock;
  random: Random;
  /** Aborted with a UserAbortError on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
}

/** Flags that every command accepts (cli-contract.md, "Global"). */
export interface GlobalOptions {
  profile?: string;
  baseUrl?: string;
  apiKeyFile?: string;
  output?: string;
  json?: boolean;
  color?: string;
  quiet?: boolean;
  debug?: boolean;
  requestTimeout?: string;
  insecure?: boolean;
}

/** localhost, 127.x.x.x and ::1 (bracketed or not): where a key may travel over plain http. */
export const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

export class Context {
  readonly io: IOStreams;
  readonly clock: Clock;
  readonly random: Random;
  readonly signal: AbortSignal;
  private clientPromise: Promise<EngramClient> | undefined;
  private stdinClaimedBy: string | undefined;
  private loadedConfig: LoadedConfig | undefined;
  /** Every API key this command knows of; stdout and stderr never let one through. */
  readonly secrets = new Secrets();

  constructor(
    deps: Deps,
    readonly globals: GlobalOptions,
  ) {
    this.io = deps.io;
    this.clock = deps.clock;
    this.random = deps.random;
    this.signal = deps.signal;
    this.secrets.add(deps.io.env.ENGRAM_API_KEY);
    redactStream(this.io.stdout, this.secrets);
    redactStream(this.io.stderr, this.secrets);
  }

  get env(): Record<string, string | undefined> {
    return this.io.env;
  }

  get quiet(): boolean {
    return !!this.globals.quiet;
  }

  get debugOn(): boolean {
    const d = this.env.ENGRAM_DEBUG;
    return !!this.globals.debug || (d !== undefined && d !== '' && d !== '0' && d !== 'false');
  }

  colorMode(): ColorMode {
    const c = this.globals.color ?? 'auto';
    if (!(COLOR_MODES as readonly string[]).includes(c)) {
      throw new UsageError(`invalid --color ${JSON.stringify(c)}`, `use one of: ${COLOR_MODES.join(', ')}`);
    }
    return c as ColorMode;
  }

  format(): OutputFormat {
    return resolveFormat(this.globals.output, this.globals.json, this.io.stdoutTTY);
  }

  outTheme(): Theme {
    return makeTheme(colorEnabled(this.colorMode(), this.io.stdoutTTY, this.env));
  }

  errTheme(): Theme {
    return makeTheme(colorEnabled(this.colorMode(), this.io.stderrTTY, this.env));
  }

  /**
   * The global flags every command accepts, checked before any command runs: a bad --color,
   * -o/--json conflict or --request-timeout is a usage error even for a command that would
   * not have looked at it before its first request.
   */
  validateGlobals(): void {
    this.colorMode();
    this.format();
    this.requestTimeoutMs();
    if (this.globals.profile !== undefined) this.profileName();
  }

  requestTimeoutMs(): number {
    const ms = this.globals.requestTimeout ? parseDuration(this.globals.requestTimeout, '--request-timeout') : 30_000;
    if (ms <= 0) throw new UsageError('--request-timeout must be greater than 0');
    return ms;
  }

  /** Only one input may come from stdin per command. */
  claimStdin(what: string): void {
    if (this.stdinClaimedBy && this.stdinClaimedBy !== what) {
      throw new UsageError(`both ${this.stdinClaimedBy} and ${what} want to read standard input`, 'read one of them from a file');
    }
    this.stdinClaimedBy = what;
  }

  /**
   * All of stdin for `what`, refused past `limit` bytes (with `hint`, the fix) like a named
   * file; on a terminal, first say what is expected (`notice`).
   */
  async readStdin(what: string, o: { notice?: string; limit?: number; hint?: string } = {}): Promise<Buffer> {
    this.claimStdin(what);
    if (this.io.stdinTTY) this.warn(o.notice ?? `reading ${what} from standard input; end with Ctrl-D`);
    const { readAll, MAX_INPUT_BYTES } = await import('../io/read.js');
    return readAll(this.io.stdin, what, o.limit ?? MAX_INPUT_BYTES, o.hint, this.signal);
  }

  warn(message: string): void {
    if (this.quiet) return;
    this.io.stderr.write(`${this.errTheme().c.yellow('warning:')} ${message}\n`);
  }

  /** Messages for humans (stderr), silenced by --quiet. */
  info(message: string): void {
    if (this.quiet) return;
    this.io.stderr.write(message + '\n');
  }

  debug(line: string): void {
    // Trace lines carry server text (status lines, headers): neutralise escape sequences.
    if (this.debugOn) this.io.stderr.write(`${this.errTheme().c.dim('debug:')} ${sanitize(line)}\n`);
  }

  /** The profile in effect: --profile, then ENGRAM_PROFILE, then `default`; `explicit` when chosen by flag or env. */
  profileName(): { name: string; source: string; explicit: boolean } {
    if (this.globals.profile !== undefined) return { name: checkProfileName(this.globals.profile, '--profile'), source: '--profile', explicit: true };
    const env = nonEmpty(this.env.ENGRAM_PROFILE);
    if (env !== undefined) return { name: checkProfileName(env.trim(), 'ENGRAM_PROFILE'), source: 'ENGRAM_PROFILE', explicit: true };
    return { name: DEFAULT_PROFILE, source: 'default', explicit: false };
  }

  /** The config file (read once); warns when group or others can read it. */
  config(): LoadedConfig {
    if (!this.loadedConfig) {
      this.loadedConfig = loadConfig(configFile(this.env));
      const m = this.loadedConfig.looseMode;
      if (m !== undefined) {
        this.warn(`the config file ${this.loadedConfig.path} is readable by others (mode 0${m.toString(8)}); fix with: chmod 600 ${this.loadedConfig.path}`);
      }
    }
    return this.loadedConfig;
  }

  /** The selected profile's settings, or undefined when it has none. */
  profile(): Profile | undefined {
    const { name } = this.profileName();
    const cfg = this.config();
    return Object.hasOwn(cfg.data.profiles, name) ? cfg.data.profiles[name] : undefined;
  }

  /** Where the base URL comes from: flag > env > profile > default. */
  baseUrlSource(): { url: string; source: string } {
    if (this.globals.baseUrl !== undefined) return { url: this.globals.baseUrl, source: '--base-url' };
    const env = nonEmpty(this.env.ENGRAM_BASE_URL);
    if (env !== undefined) return { url: env, source: 'ENGRAM_BASE_URL' };
    const p = this.profile()?.base_url;
    if (p !== undefined && p.trim() !== '') return { url: p, source: `profile "${this.profileName().name}"` };
    return { url: DEFAULT_BASE_URL, source: 'default' };
  }

  baseUrl(): string {
    const raw = this.baseUrlSource().url;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UsageError(`invalid base URL ${JSON.stringify(raw)}`, 'use e.g. https://api.engram.weaviate.io or http://127.0.0.1:4680');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`base URL must be http:// or https://, got ${JSON.stringify(raw)}`);
    }
    if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname) && !this.globals.insecure) {
      throw new UsageError(
        `refusing to send the API key over plain http to ${url.host}`,
        'use https://, or pass --insecure if you really mean it',
      );
    }
    return raw.replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  /** The API key from --api-key-file, ENGRAM_API_KEY or the profile; never printed. */
  async apiKey(): Promise<{ key: string; source: string }> {
    if (this.globals.apiKeyFile !== undefined) {
      const f = this.globals.apiKeyFile;
      let buf: Buffer;
      // Bounded: a key is a line; /dev/zero or a wrong (huge) file must not eat the memory.
      const bound = { limit: 64 * 1024, hint: 'it should hold only the key' };
      if (f === '-') buf = await this.readStdin('--api-key-file -', bound);
      else {
        const { readNamedFile } = await import('../io/read.js');
        buf = await readNamedFile(f, '--api-key-file', bound.limit, bound.hint);
      }
      return { key: checkKey(buf.toString('utf8'), `--api-key-file ${f}`), source: `--api-key-file ${f}` };
    }
    const env = nonEmpty(this.env.ENGRAM_API_KEY);
    const prof = this.profileName();
    if (env !== undefined) {
      if (prof.source === '--profile' && this.profile()?.api_key) {
        this.warn(`ENGRAM_API_KEY is set and takes precedence over the key of profile "${prof.name}"`);
      } else if (prof.source === '--profile' && !Object.hasOwn(this.config().data.profiles, prof.name)) {
        // A mistyped --profile must not pass silently just because the environment has a key.
        this.warn(`profile "${prof.name}" is not in ${this.config().path}; using ENGRAM_API_KEY`);
      }
      return { key: checkKey(env, 'ENGRAM_API_KEY'), source: 'ENGRAM_API_KEY' };
    }
    const cfg = this.config();
    const stored = this.profile()?.api_key;
    if (stored !== undefined && stored.trim() !== '') {
      return { key: checkKey(stored, `profile "${prof.name}"`), source: `profile "${prof.name}" in ${cfg.path}` };
    }
    if (prof.explicit && !Object.hasOwn(cfg.data.profiles, prof.name)) {
      throw new AuthConfigError(
        `profile "${prof.name}" (from ${prof.source}) is not in ${cfg.path}`,
        `create it with: engram auth login --profile ${prof.name}`,
      );
    }
    throw new AuthConfigError(
      'no API key configured',
      'run engram auth login, set ENGRAM_API_KEY, or pass --api-key-file PATH (use - for standard input)',
    );
  }

  /** A client for an explicit key (auth login verifies a key before it is saved). */
  async clientWithKey(key: string): Promise<EngramClient> {
    this.secrets.add(key);
    const baseUrl = this.baseUrl();
    const timeoutMs = this.requestTimeoutMs();
    const { EngramClient } = await import('../api/client.js');
    return new EngramClient({
      baseUrl,
      apiKey: key,
      clock: this.clock,
      random: this.random,
      timeoutMs,
      clientVersion: version(),
      signal: this.signal,
      // Trace lines go to stderr, which scrubs this key (registered above) like every other.
      debug: this.debugOn ? (l) => this.debug(l) : undefined,
    });
  }

  /** The HTTP client, built on first use (commands that never talk to the API never pay for it). */
  client(): Promise<EngramClient> {
    this.clientPromise ??= (async () => {
      this.baseUrl(); // a bad base URL is a usage error before the key is read
      this.requestTimeoutMs();
      const { key } = await this.apiKey();
      return this.clientWithKey(key);
    })();
    return this.clientPromise;
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

export function checkKey(raw: string, source: string): string {
  const key = raw.replace(/^\ufeff/, '').trim();
  if (key === '') throw new AuthConfigError(`the API key from ${source} is empty`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(key)) {
    throw new UsageError(`the API key from ${source} contains whitespace or control characters`, 'the file should hold only the key');
  }
  return key;
}

