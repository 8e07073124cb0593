import { UsageError } from '../api/errors.js';

export type OutputFormat = 'table' | 'plain' | 'json' | 'ndjson';
/** What -o accepts (`plain` is not chosen, it is what a table becomes in a pipe). */
export const OUTPUT_FORMATS: readonly string[] = ['table', 'json', 'ndjson'];

/** `-o table|json|ndjson` and `--json`; by default table on a TTY, the plain human layout otherwise. */
export function resolveFormat(output: string | undefined, json: boolean | undefined, stdoutTTY: boolean): OutputFormat {
  if (output !== undefined && !OUTPUT_FORMATS.includes(output)) {
    throw new UsageError(`invalid --output ${JSON.stringify(output)}`, `use one of: ${OUTPUT_FORMATS.join(', ')}`);
  }
  if (json && output !== undefined && output !== 'json') {
    throw new UsageError(`--json conflicts with --output ${output}`, 'give one of them');
  }
  if (json || output === 'json') return 'json';
  if (output === 'ndjson') return 'ndjson';
  // An explicit -o table is honoured even in a pipe (colour is still decided per stream).
  if (output === 'table') return 'table';
  return stdoutTTY ? 'table' : 'plain';
}

/** JSON for stdout: one document, 2-space indented, newline-terminated. */
export function jsonDocument(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export function ndjsonLine(value: unknown): string {
  return JSON.stringify(value) + '\n';
}
