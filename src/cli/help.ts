import { exitCodeTableText } from './exit-codes.js';

export const ENVIRONMENT_TEXT = `Environment variables:

  ENGRAM_API_KEY        API key (eng_…). Never printed; prefer --api-key-file in shared shells.
  ENGRAM_BASE_URL       API base URL (default https://api.engram.weaviate.io). Point it at
                        \`engram emulator\` to work offline, e.g. http://127.0.0.1:4680.
  ENGRAM_PROFILE        profile name in the config file (like --profile).
  ENGRAM_WAIT_TIMEOUT   default --timeout for runs wait / memories add --wait (default 10m).
  ENGRAM_DEBUG          1 traces every request and response on stderr (Authorization redacted).
  NO_COLOR              any non-empty value turns colour off.
  FORCE_COLOR           forces colour on (0 turns it off), even when not on a terminal.
  TERM=dumb             no colour and no spinner.
  COLUMNS               width for tables.
  XDG_CONFIG_HOME       config profiles live in $XDG_CONFIG_HOME/engram/ (default ~/.config/engram/).
  XDG_STATE_HOME        run history lives in $XDG_STATE_HOME/engram/ (default ~/.local/state/engram/).

Precedence: flags > environment > config profile > defaults.
`;

export const FORMATS_TEXT = `Output formats (-o, --output; --json is -o json):

  table    default on a terminal: aligned, coloured, relative times, long lists cut at 20.
  (plain)  default when stdout is not a terminal: the same fields as "key: value" lines,
           no colour, no box drawing, RFC 3339 times, every id. Stable and grep-able.
  json     one complete UTF-8 document. Run objects keep the API's snake_case fields;
           committed_operations is always {created, updated, deleted} arrays; unknown server
           fields are kept, $schema dropped. One id gives an object, several an array.
  ndjson   one JSON object per line, flushed per line, in completion order.

Input readings of memories add --file (PATH or - for stdin):
  a JSON conversation       [{"role": "user", "content": "…"}, …] or {"messages": […], "metadata": {…}}
  JSON pre-extracted items  [{"content": "…", "topic": "UserKnowledge"}, …] or {"items": […]}
  a full request body       {"input": {…}, "user_id": "…", "group": "…", "properties": {…}}
  plain text                anything else: sent as one string input
--type string|conversation|pre-extracted forces a reading; --topic T sends each line of plain
text as a pre-extracted item in topic T.

runs wait --events prints one NDJSON line per status change:
  {"run_id", "status", "previous_status", "at", "elapsed_ms"}
`;

export const HELP_TOPICS: Record<string, () => string> = {
  'exit-codes': exitCodeTableText,
  environment: () => ENVIRONMENT_TEXT,
  formats: () => FORMATS_TEXT,
};
