import type { Writable } from 'node:stream';
import type { Run } from '../api/types.js';
import { formatDuration } from '../cli/flags.js';
import type { Clock } from '../core/clock.js';
import { canAnimate, type IOStreams } from '../io/streams.js';
import { sanitize } from '../output/sanitize.js';
import type { Theme } from '../output/theme.js';
import type { RunResult, StatusEvent, Summary, WaitListener } from './engine.js';

export const HEARTBEAT_MS = 60_000;

export interface ProgressOptions {
  io: IOStreams;
  theme: Theme;
  clock: Clock;
  quiet: boolean;
  /** --events: status changes go to stdout as NDJSON, so stderr does not repeat them. */
  events: boolean;
  summary: () => Summary;
  total: number;
}

export function summaryText(s: Summary): string {
  const parts = [`${s.done}/${s.total} done`];
  if (s.failed) parts.push(`${s.failed} failed`);
  for (const [status, n] of s.byStatus) {
    if (status === 'completed' || status === 'failed') continue;
    parts.push(`${n} ${status === 'waiting' ? 'not seen yet' : status}`);
  }
  parts.push(formatDuration(s.elapsedMs));
  return parts.join(' · ');
}

/**
 * An ora spinner on stderr (callers check canAnimate first) whose text is `text()`, redrawn
 * every 200 ms and on render(); coloured only when the stream gets colour.
 */
export class Spinner {
  private readonly ticker: ReturnType<typeof setInterval>;

  private constructor(
    private readonly ora: import('ora').Ora,
    private readonly text: () => string,
  ) {
    this.ticker = setInterval(() => this.render(), 200);
    this.ticker.unref?.();
  }

  static async start(io: IOStreams, text: () => string, colour: boolean): Promise<Spinner> {
    const { default: ora } = await import('ora');
    const o = ora({ stream: io.stderr as NodeJS.WritableStream, isEnabled: true, discardStdin: false, color: colour ? 'cyan' : false, text: text() });
    return new Spinner(o.start(), text);
  }

  render(): void {
    this.ora.text = this.text();
    this.ora.render();
  }

  /** A persistent line on `stream`, drawn above the spinner. */
  line(stream: Writable, text: string): void {
    this.ora.clear();
    stream.write(text + '\n');
    this.ora.render();
  }

  /** Stop animating and restore the cursor. */
  stop(): void {
    clearInterval(this.ticker);
    this.ora.stop();
  }
}

/**
 * Wait progress on stderr: an ora spinner on a TTY, plain lines (status changes, retries,
 * a heartbeat at least every minute) otherwise, nothing at all with --quiet.
 */
export class WaitProgress implements WaitListener {
  private spinner: Spinner | undefined;
  private heartbeatStop = new AbortController();
  private lastLineAt: number;
  private lastStatus: string | undefined;

  private constructor(private readonly o: ProgressOptions) {
    this.lastLineAt = o.clock.now();
  }

  static async start(o: ProgressOptions): Promise<WaitProgress> {
    const p = new WaitProgress(o);
    if (o.quiet) return p;
    if (canAnimate(o.io)) {
      p.spinner = await Spinner.start(o.io, () => p.spinnerText(), o.theme.enabled);
    } else {
      void p.heartbeat();
    }
    return p;
  }

  private spinnerText(): string {
    const s = this.o.summary();
    if (this.o.total === 1) {
      return `${this.lastStatus ? this.o.theme.status(sanitize(this.lastStatus)) : 'waiting'} · ${formatDuration(s.elapsedMs)}`;
    }
    return summaryText(s);
  }

  private render(): void {
    this.spinner?.render();
  }

  private async heartbeat(): Promise<void> {
    const { clock } = this.o;
    for (;;) {
      const due = this.lastLineAt + HEARTBEAT_MS - clock.now();
      try {
        await clock.sleep(Math.max(1, due), this.heartbeatStop.signal);
      } catch {
        return;
      }
      if (clock.now() - this.lastLineAt >= HEARTBEAT_MS) this.line(`still waiting: ${summaryText(this.o.summary())}`);
    }
  }

  /** A persistent line on stderr, drawn around the spinner. */
  line(text: string): void {
    if (this.o.quiet) return;
    this.lastLineAt = this.o.clock.now();
    if (this.spinner) this.spinner.line(this.o.io.stderr, text);
    else this.o.io.stderr.write(text + '\n');
  }

  onStatus(ev: StatusEvent, _run: Run): void {
    this.lastStatus = ev.status;
    if (this.spinner) return this.render();
    if (this.o.events) return;
    const from = ev.previous_status === null ? '' : `${sanitize(ev.previous_status)} → `;
    this.line(`${sanitize(ev.run_id)}: ${from}${sanitize(ev.status)} (${formatDuration(ev.elapsed_ms)})`);
  }

  // Retry and warning messages quote the server (problem details, status values): sanitised.
  onRetry(message: string): void {
    this.line(`${this.o.theme.c.yellow('!')} ${sanitize(message)}`);
  }

  onWarning(message: string): void {
    this.line(`${this.o.theme.c.yellow('warning:')} ${sanitize(message)}`);
  }

  onResult(_r: RunResult): void {
    this.render();
  }

  /** Stop animating and restore the cursor; idempotent. */
  stop(): void {
    this.heartbeatStop.abort();
    this.spinner?.stop();
    this.spinner = undefined;
  }
}
