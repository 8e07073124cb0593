import type { Context } from '../cli/context.js';
import { sanitize } from '../output/sanitize.js';
import { historyFile } from '../config/paths.js';
import { errnoCode } from '../io/errno.js';
import { appendHistory, type HistoryRecord } from './history.js';

export interface SubmittedRun {
  run_id: string;
  input_type: string;
  user_id?: string;
  group?: string;
  source?: string;
}

/** What the API calls an input kind, from the request body. */
export function inputTypeOf(input: object): string {
  if ('conversation' in input) return 'conversation';
  if ('pre_extracted' in input) return 'pre_extracted';
  return 'string';
}

/**
 * Records runs submitted by `memories add` in the local history. A failure (read-only home,
 * full disk) is a warning, said once, and never fails the add.
 */
export class HistoryRecorder {
  private warned = false;
  /** This process has appended before: the directory exists and the file ends with a newline. */
  private continuing = false;
  private readonly path: string;
  private readonly baseUrl: string;
  private readonly profile: string;

  constructor(private readonly ctx: Context) {
    this.path = historyFile(ctx.env);
    this.baseUrl = ctx.baseUrl();
    this.profile = ctx.profileName().name;
  }

  async record(run: SubmittedRun): Promise<void> {
    const rec: HistoryRecord = {
      v: 1,
      run_id: run.run_id,
      base_url: this.baseUrl,
      profile: this.profile,
      input_type: run.input_type,
      ...(run.user_id !== undefined ? { user_id: run.user_id } : {}),
      ...(run.group !== undefined ? { group: run.group } : {}),
      submitted_at: new Date(this.ctx.clock.now()).toISOString(),
      ...(run.source !== undefined ? { source: run.source } : {}),
    };
    try {
      await appendHistory(this.path, [rec], { continuing: this.continuing });
      this.continuing = true;
    } catch (err) {
      if (this.warned) return;
      this.warned = true;
      this.ctx.warn(`could not record run ${sanitize(run.run_id)} in the local history ${this.path} (${errnoCode(err)}); the run itself was submitted, but \`engram runs list\` will not show it`);
    }
  }
}
