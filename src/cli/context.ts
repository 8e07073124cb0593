import { AuthConfigError, UsageError } from '../api/errors.js';
import type { EngramClient } from '../api/client.js';
import type { Clock, Random } from '../core/clock.js';
import { colorEnabled, type ColorMode, type IOStreams } from '../io/streams.js';
import { resolveFormat, type OutputFormat } from '../output/format.js';
import { makeTheme, type Theme } from '../output/theme.js';
import { version } from '../version.js';
import { parseDuration } from './flags.js';

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

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

export class Context {
  readonly io: IOStreams;
  readonly clock: Clock;
  readonly random: Random;
  readonly signal: AbortSignal;
  private clientPromise: Promise<EngramClient> | undefined;
  private stdinClaimedBy: string | undefined;

  constructor(
    deps: Deps,
    readonly globals: GlobalOptions,
  ) {
    this.io = deps.io;
    this.clock = deps.clock;
    this.random = deps.random;
    this.signal = deps.signal;
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
    if (c !== 'auto' && c !== 'always' && c !== 'never') {
      throw new UsageError(`invalid --color ${JSON.stringify(c)}`, 'use one of: auto, always, never');
    }
    return c;
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

  async readStdin(what: string): Promise<Buffer> {
    this.claimStdin(what);
    if (this.io.stdinTTY) {
      this.warn(`reading ${what} from standard input; end with Ctrl-D`);
    }
    const { readAll } = await import('../io/read.js');
    return readAll(this.io.stdin, what);
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
    if (this.debugOn) this.io.stderr.write(`${this.errTheme().c.dim('debug:')} ${line}\n`);
  }

  baseUrl(): string {
    const raw = this.globals.baseUrl ?? nonEmpty(this.env.ENGRAM_BASE_URL) ?? DEFAULT_BASE_URL;
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
      if (f === '-') buf = await this.readStdin('--api-key-file -');
      else {
        const { readFile } = await import('node:fs/promises');
        try {
          buf = await readFile(f);
        } catch (err) {
          throw new UsageError(`cannot read --api-key-file ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      return { key: checkKey(buf.toString('utf8'), `--api-key-file ${f}`), source: `--api-key-file ${f}` };
    }
    const env = nonEmpty(this.env.ENGRAM_API_KEY);
    if (env !== undefined) return { key: checkKey(env, 'ENGRAM_API_KEY'), source: 'ENGRAM_API_KEY' };
    throw new AuthConfigError(
      'no API key configured',
      'set ENGRAM_API_KEY, or pass --api-key-file PATH (use - for standard input)',
    );
  }

  /** The HTTP client, built on first use (commands that never talk to the API never pay for it). */
  client(): Promise<EngramClient> {
    this.clientPromise ??= (async () => {
      const baseUrl = this.baseUrl();
      const timeoutMs = this.requestTimeoutMs();
      const { key } = await this.apiKey();
      const { EngramClient } = await import('../api/client.js');
      return new EngramClient({
        baseUrl,
        apiKey: key,
        clock: this.clock,
        random: this.random,
        timeoutMs,
        clientVersion: version(),
        signal: this.signal,
        debug: this.debugOn ? (l) => this.debug(l.split(key).join('[REDACTED]')) : undefined,
      });
    })();
    return this.clientPromise;
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

function checkKey(raw: string, source: string): string {
  const key = raw.replace(/^\ufeff/, '').trim();
  if (key === '') throw new AuthConfigError(`the API key from ${source} is empty`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(key)) {
    throw new UsageError(`the API key from ${source} contains whitespace or control characters`, 'the file should hold only the key');
  }
  return key;
}

