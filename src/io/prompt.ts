import type { Readable } from 'node:stream';
import { UsageError, UserAbortError } from '../api/errors.js';
import type { IOStreams } from './streams.js';

/**
 * Prompts on stderr, answers from stdin. They refuse without a terminal (naming the flag to
 * use instead): a script must never hang on a question nobody sees.
 */

export interface PromptOptions {
  /** The problem and the fix when there is no terminal, e.g. ['refusing to delete …', 'pass --yes']. */
  noTTY: [string, string];
  signal?: AbortSignal;
}

function requireTTY(io: IOStreams, o: PromptOptions): void {
  if (!io.stdinTTY || !io.stderrTTY) throw new UsageError(o.noTTY[0], o.noTTY[1]);
}

/** One line from stdin (without its line break); `undefined` at end of input. */
function readLine(stdin: Readable, signal?: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const cleanup = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      signal?.removeEventListener('abort', onAbort);
      stdin.pause();
    };
    const onData = (chunk: Buffer | string) => {
      const s = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      for (const ch of s) {
        if (ch === '\u0003') {
          // Ctrl-C in raw mode
          cleanup();
          return reject(new UserAbortError('SIGINT'));
        }
        if (ch === '\u0004' && buf === '') {
          cleanup();
          return resolve(undefined);
        }
        if (ch === '\r' || ch === '\n') {
          cleanup();
          const rest = s.slice(s.indexOf(ch) + 1);
          if (rest) stdin.unshift(Buffer.from(rest));
          return resolve(buf);
        }
        if (ch === '\u007f' || ch === '\b') {
          buf = buf.slice(0, -1);
          continue;
        }
        buf += ch;
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(buf === '' ? undefined : buf);
    };
    const onAbort = () => {
      cleanup();
      reject(UserAbortError.from(signal));
    };
    if (signal?.aborted) return reject(UserAbortError.from(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}

/** "question [y/N] " → true only for y/yes. */
export async function confirm(io: IOStreams, question: string, o: PromptOptions): Promise<boolean> {
  requireTTY(io, o);
  io.stderr.write(`${question} [y/N] `);
  const answer = await readLine(io.stdin, o.signal);
  if (answer === undefined) io.stderr.write('\n');
  return /^\s*y(es)?\s*$/i.test(answer ?? '');
}

/** A secret typed without echo (raw mode when the terminal supports it). */
export async function readSecret(io: IOStreams, label: string, o: PromptOptions): Promise<string> {
  requireTTY(io, o);
  const tty = io.stdin as Readable & { setRawMode?: (raw: boolean) => void; isRaw?: boolean };
  io.stderr.write(label);
  const raw = typeof tty.setRawMode === 'function';
  const wasRaw = tty.isRaw ?? false;
  if (raw) tty.setRawMode!(true);
  try {
    return (await readLine(io.stdin, o.signal)) ?? '';
  } finally {
    if (raw) tty.setRawMode!(wasRaw);
    io.stderr.write('\n');
  }
}
