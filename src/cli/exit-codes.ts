/** The one exit-code table (cli-contract.md). Only main.ts turns these into process exits. */
export const ExitCode = {
  OK: 0,
  UNEXPECTED: 1,
  USAGE: 2,
  RUN_FAILED: 3,
  AUTH: 4,
  NOT_FOUND: 5,
  REJECTED: 6,
  UNAVAILABLE: 7,
  TIMEOUT: 124,
  SIGINT: 130,
  SIGPIPE: 141,
  SIGTERM: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_TABLE: ReadonlyArray<readonly [ExitCode, string]> = [
  [ExitCode.OK, 'success'],
  [ExitCode.UNEXPECTED, 'unexpected error (a bug: please report it with the --debug output)'],
  [ExitCode.USAGE, 'usage or input error; nothing was sent'],
  [ExitCode.RUN_FAILED, 'a run ended `failed`'],
  [ExitCode.AUTH, 'authentication or permission (401, 403, no key configured)'],
  [ExitCode.NOT_FOUND, 'not found (404)'],
  [ExitCode.REJECTED, 'rejected by the API (400, 409, 422, 429 plan limit, other 4xx)'],
  [ExitCode.UNAVAILABLE, 'service unreachable or failing after retries (network, timeouts, 5xx)'],
  [ExitCode.TIMEOUT, 'deadline reached with a run not finished (wait), or not finished (get --exit-status)'],
  [ExitCode.SIGINT, 'interrupted by SIGINT (Ctrl-C)'],
  [ExitCode.SIGPIPE, 'stdout closed by its reader (`| head`) while the command was still working; work already finished ends 0'],
  [ExitCode.SIGTERM, 'terminated by SIGTERM'],
];

/** With several outcomes, the first of these that applies wins (cli-contract.md). */
const PRECEDENCE: readonly ExitCode[] = [
  ExitCode.AUTH,
  ExitCode.UNAVAILABLE,
  ExitCode.UNEXPECTED,
  ExitCode.NOT_FOUND,
  ExitCode.REJECTED,
  ExitCode.RUN_FAILED,
  ExitCode.TIMEOUT,
];

export function worstExitCode(codes: Iterable<ExitCode>): ExitCode {
  const seen = new Set(codes);
  for (const c of PRECEDENCE) if (seen.has(c)) return c;
  return ExitCode.OK;
}

export function exitCodeTableText(): string {
  const lines = ['Exit codes (the same for every command):', ''];
  for (const [code, meaning] of EXIT_CODE_TABLE) lines.push(`  ${String(code).padStart(3)}  ${meaning}`);
  lines.push('', 'With several runs, the first of 4, 7, 1, 5, 6, 3, 124 that applies wins; every run is still reported.');
  return lines.join('\n') + '\n';
}
