import { PassThrough, Readable, Writable } from 'node:stream';
import type { IOStreams } from '../../src/io/streams.js';

export class Capture extends Writable {
  chunks: Buffer[] = [];
  isTTY: boolean;
  columns = 100;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  // ora calls these on TTY streams
  cursorTo(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
}

export interface TestIO extends IOStreams {
  out: Capture;
  err: Capture;
}

export interface TestIOOptions {
  tty?: boolean;
  stdoutTTY?: boolean;
  stderrTTY?: boolean;
  stdinTTY?: boolean;
  stdin?: string | Buffer;
  env?: Record<string, string | undefined>;
  columns?: number;
}

/** In-memory streams; `tty` makes all three look like a terminal. */
export function testIO(o: TestIOOptions = {}): TestIO {
  const out = new Capture(o.stdoutTTY ?? o.tty ?? false);
  const err = new Capture(o.stderrTTY ?? o.tty ?? false);
  const stdin = o.stdin === undefined ? new PassThrough() : Readable.from([Buffer.from(o.stdin)]);
  if (o.stdin === undefined) (stdin as PassThrough).end();
  return {
    stdin,
    stdout: out,
    stderr: err,
    out,
    err,
    stdinTTY: o.stdinTTY ?? false,
    stdoutTTY: out.isTTY,
    stderrTTY: err.isTTY,
    env: { ...(o.env ?? {}) },
    columns: () => o.columns ?? 100,
  };
}
