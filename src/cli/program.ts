import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../api/errors.js';
import type { Context, Deps, GlobalOptions } from './context.js';
import { collect } from './flags.js';
import { HELP_TOPICS } from './help.js';
import { version } from '../version.js';
import { sanitize } from '../output/sanitize.js';

export type Action = (ctx: Context) => Promise<number>;

function examples(lines: string[]): string {
  return `Examples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

function addWaitFlags(cmd: Command, prefix = '', hiddenConcurrency = true): Command {
  cmd
    .option('--timeout <duration>', `${prefix}one deadline for the whole wait (default 10m, 0 = none, env ENGRAM_WAIT_TIMEOUT)`)
    .option('--interval <duration>', `${prefix}longest gap between polls (default 5s)`)
    .addOption(new Option('--until <status>', `${prefix}also stop at in_buffer (default completed)`).choices(['completed', 'in_buffer']))
    .option('--fail-fast', `${prefix}stop at the first failed run`)
    .option('--events', `${prefix}print NDJSON status changes on stdout`);
  if (hiddenConcurrency) cmd.addOption(new Option('--concurrency <n>', 'requests in flight at once (1-64, default 16)').hideHelp());
  return cmd;
}

/** --user-id, --group, --property, --conversation-id (and --topic) for reading memories. */
function addScopeFlags(cmd: Command, opts: { topic?: boolean; properties?: boolean } = {}): Command {
  cmd.option('--user-id <id>', 'user scope (needed for user-scoped topics)').option('--group <name>', 'group (default: the server default, "default")');
  if (opts.properties !== false) {
    cmd
      .option('--property <key=value>', 'scope property filter (repeatable)', collect)
      .option('--conversation-id <id>', 'same as --property conversation_id=<id>');
  }
  if (opts.topic) cmd.option('--topic <name>', 'only this topic (repeatable)', collect);
  return cmd;
}

/**
 * Build the command tree. Commands are loaded lazily inside their actions, so `--version` and
 * `--help` pay only for commander. `run` receives the chosen action and executes it.
 */
export function makeProgram(deps: Deps, run: (action: Action, globals: GlobalOptions) => void): Command {
  const { io } = deps;
  const program = new Command('engram');
  program
    .description('Command-line tool for Weaviate Engram: add memories, inspect and wait on pipeline runs, work offline with a local emulator.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // Usage errors quote arguments, which may come from server data (xargs): neutralise escapes.
      // One line, the problem then the fix: commander puts its suggestion on a line of its own.
      outputError: (s, write) => write(sanitize(s, { keepNewlines: true }).replace(/\n\(Did you mean (.+)\?\)\n$/, '; did you mean $1?\n')),
    })
    .exitOverride()
    .option('--profile <name>', 'config profile to use (env ENGRAM_PROFILE)')
    .option('--base-url <url>', 'API base URL (env ENGRAM_BASE_URL)')
    .option('--api-key-file <path>', 'read the API key from a file, or - for stdin')
    .option('-o, --output <format>', 'table, json or ndjson (default table on a terminal)')
    .option('--json', 'same as -o json')
    .option('--color <when>', 'auto, always or never', 'auto')
    .option('-q, --quiet', 'nothing on stderr on success')
    .option('--debug', 'trace requests on stderr, Authorization redacted (env ENGRAM_DEBUG=1)')
    .option('--request-timeout <duration>', 'timeout of each HTTP request', '30s')
    .option('--insecure', 'allow sending the API key over plain http to a non-loopback host')
    .addHelpText(
      'before',
      examples([
        'engram memories add "I prefer dark mode." --user-id alice --wait',
        'engram memories add --file conversation.json --user-id alice --wait --json | jq .committed_operations',
        'engram runs get 019e8742-5a4d-7698-88a5-f714efe876d1',
        'engram memories add --file notes.txt --user-id alice -q | engram runs wait -',
        'engram memories export --user-id alice --out alice.jsonl',
        'engram emulator --port 4680     # an offline Engram on loopback',
      ]),
    )
    .addHelpText('after', '\nMore: engram help exit-codes | environment | formats\n');

  const act = (fn: (ctx: Context, ...a: unknown[]) => Promise<number>) =>
    function (this: Command, ...args: unknown[]) {
      const cmd = args[args.length - 1] as Command;
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      run((ctx) => fn(ctx, ...args.slice(0, -1)), globals);
    };

  // runs
  const runs = program.command('runs').description('inspect and wait on pipeline runs');
  runs.addHelpText('before', examples(['engram runs get <run-id>', 'engram runs wait <run-id> --timeout 5m']));
  runs
    .command('get')
    .description('show runs: status, error and committed operations')
    .argument('<run-id...>', 'one or more run ids, or - to read them from stdin')
    .option('--exit-status', 'exit 0 completed, 3 failed, 124 not finished')
    .addHelpText(
      'before',
      examples([
        'engram runs get 019e8742-5a4d-7698-88a5-f714efe876d1',
        'engram runs get <id> <id> --json | jq \'.[].status\'',
        'engram runs get <id> --exit-status || echo "not completed"',
      ]),
    )
    .action(
      act(async (ctx, ids, opts) => {
        const { runsGet } = await import('../commands/runs/get.js');
        return runsGet(ctx, ids as string[], opts as { exitStatus?: boolean });
      }),
    );
  runs
    .command('list')
    .description('runs submitted from this machine (local history), refreshed from the service')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(['running', 'in_buffer', 'completed', 'failed']))
    .option('--limit <n>', 'how many, newest first (default 20)')
    .option('--no-refresh', 'show the local history only, without asking the service')
    .addHelpText(
      'before',
      examples(['engram runs list', 'engram runs list --status failed --limit 50', 'engram runs list --json | jq -r \'.[] | select(.status=="in_buffer") | .run_id\'']),
    )
    .addHelpText('after', '\nThe API cannot list runs: this lists the runs `engram memories add` submitted to the current\nbase URL, kept in $XDG_STATE_HOME/engram/history.jsonl (default ~/.local/state/engram/).\n')
    .action(
      act(async (ctx, opts) => {
        const { runsList } = await import('../commands/runs/list.js');
        return runsList(ctx, opts as Record<string, never>);
      }),
    );
  addWaitFlags(
    runs
      .command('wait')
      .description('poll runs until they finish; the exit code says how they ended')
      .argument('<run-id...>', 'one or more run ids, or - to read them from stdin')
      .addHelpText(
        'before',
        examples([
          'engram runs wait 019e8742-5a4d-7698-88a5-f714efe876d1',
          'engram runs wait <id> <id> --timeout 2m --fail-fast',
          'engram memories add --file notes.txt --user-id alice -q | engram runs wait -',
          'engram runs wait <id> --events | jq -c .status',
        ]),
      )
      .addHelpText('after', '\nExit: 0 completed, 3 failed, 5 not found, 7 service unavailable, 124 deadline (engram help exit-codes)\n'),
  ).action(
    act(async (ctx, ids, opts) => {
      const { runsWait } = await import('../commands/runs/wait.js');
      return runsWait(ctx, ids as string[], opts as Record<string, string>);
    }),
  );

  // memories
  const memories = program.command('memories').description('add, search, list, get, delete and export memories');
  memories.addHelpText(
    'before',
    examples([
      'engram memories add "The user prefers dark mode." --user-id alice',
      'engram memories search "editor preferences" --user-id alice',
      'engram memories export --user-id alice --out alice.jsonl',
    ]),
  );
  const add = memories
    .command('add')
    .description('submit content to the pipeline; prints the run (or its id with -q)')
    .argument('[text...]', 'text to remember (each argument is one string input)')
    .option('-f, --file <path>', 'read content from a file (JSON conversation, pre-extracted items, request body or text), - for stdin')
    .addOption(new Option('--type <type>', 'force a reading of --file').choices(['string', 'conversation', 'pre-extracted']))
    .option('--topic <topic>', 'send text lines as pre-extracted items in this topic')
    .option('--user-id <id>', 'user scope')
    .option('--group <name>', 'group (default: the server default, "default")')
    .option('--property <key=value>', 'scope property (repeatable)', collect)
    .option('--conversation-id <id>', 'same as --property conversation_id=<id>')
    .option('--wait', 'wait for the run to finish (all runs wait flags apply)')
    .option('--jsonl <path>', 'bulk: one add per line of a JSONL file (- for stdin); NDJSON results on stdout')
    .option('--concurrency <n>', 'with --jsonl: adds in flight at once (1-64, default 4)')
    .option('--from-line <n>', 'with --jsonl: start at this line (to resume after a stop)')
    .option('--skip-lines <list>', 'with --jsonl: lines not to send, e.g. 7,9-12 (resume commands use it)')
    .addHelpText(
      'before',
      examples([
        'engram memories add "The user prefers dark mode." --user-id alice',
        'engram memories add --file examples/conversation.json --user-id alice --wait',
        'cat notes.txt | engram memories add --file - --user-id alice -q',
        'engram memories add --file facts.txt --topic UserKnowledge --user-id alice',
        'engram memories add --jsonl facts.jsonl --user-id alice --concurrency 8 > results.ndjson',
      ]),
    )
    .addHelpText(
      'after',
      '\n--jsonl: each line is a JSON string (text) or any --file reading (conversation, items, request body).\n' +
        'Every line is checked before anything is sent. Results: {line, outcome, run_id, status} |\n' +
        '{line, outcome: "rejected", error} | {line, outcome: "unknown", error} | {line, outcome: "not_sent"}.\n' +
        'A 429 (plan limit) stops submission; the summary prints the exact resume command.\n',
    );
  addWaitFlags(add, 'with --wait: ', false).action(
    act(async (ctx, texts, opts) => {
      const { memoriesAdd } = await import('../commands/memories/add.js');
      return memoriesAdd(ctx, texts as string[], opts as Record<string, never>);
    }),
  );

  addScopeFlags(memories.command('get').description('show one memory').argument('<memory-id>', 'the memory id'), { properties: false })
    .addHelpText('before', examples(['engram memories get 381f964c-5d99-466a-8487-bf9c248fed33 --user-id alice', 'engram memories get <id> --user-id alice --json | jq -r .content']))
    .action(
      act(async (ctx, id, opts) => {
        const { memoriesGet } = await import('../commands/memories/get.js');
        return memoriesGet(ctx, id as string, opts as Record<string, string>);
      }),
    );
  addScopeFlags(
    memories.command('delete').description('delete memories (asks first on a terminal; --yes otherwise)').argument('<memory-id...>', 'one or more memory ids'),
    { properties: false },
  )
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--ignore-missing', 'a memory that does not exist (404) counts as deleted')
    .addHelpText(
      'before',
      examples([
        'engram memories delete 381f964c-5d99-466a-8487-bf9c248fed33 --user-id alice',
        'engram memories list --user-id alice -o ndjson | jq -r .id | xargs engram memories delete --user-id alice --yes --ignore-missing',
      ]),
    )
    .action(
      act(async (ctx, ids, opts) => {
        const { memoriesDelete } = await import('../commands/memories/delete.js');
        return memoriesDelete(ctx, ids as string[], opts as Record<string, string>);
      }),
    );
  addScopeFlags(
    memories
      .command('search')
      .description('ranked search: score, topic, content, id')
      .argument('<query>', 'what to look for')
      .addOption(new Option('--type <type>', 'retrieval: hybrid, vector, bm25 or fetch (recency, query ignored)').choices(['hybrid', 'vector', 'bm25', 'fetch']))
      .option('--limit <n>', 'results, 1-100 (default 10)'),
    { topic: true },
  )
    .addHelpText(
      'before',
      examples([
        'engram memories search "programming language" --user-id alice',
        'engram memories search "dark mode" --user-id alice --type bm25 --limit 50 --json | jq \'.memories[].content\'',
        'engram memories search x --type fetch --topic ConversationSummary --user-id alice --conversation-id c1',
      ]),
    )
    .action(
      act(async (ctx, query, opts) => {
        const { memoriesSearch } = await import('../commands/memories/search.js');
        return memoriesSearch(ctx, query as string, opts as Record<string, never>);
      }),
    );
  addScopeFlags(
    memories
      .command('list')
      .description('list memories (unranked; at most 100, the API has no pagination)')
      .option('--limit <n>', 'results, 1-100 (default 20)'),
    { topic: true },
  )
    .addHelpText('before', examples(['engram memories list --user-id alice', 'engram memories list --user-id alice --topic UserKnowledge --limit 100 -o ndjson']))
    .action(
      act(async (ctx, opts) => {
        const { memoriesList } = await import('../commands/memories/list.js');
        return memoriesList(ctx, opts as Record<string, never>);
      }),
    );
  memories
    .command('export')
    .description('every memory reachable with the scope, as JSONL (walks groups and topics)')
    .option('--user-id <id>', 'export this user\'s memories of user-scoped topics (repeatable)', collect)
    .option('--group <name>', 'only this group (repeatable; default: all groups)', collect)
    .option('--topic <name>', 'only this topic (repeatable; default: all topics)', collect)
    .option('--property <key=value>', 'scope property filter, for the topics scoped by it (repeatable)', collect)
    .option('--conversation-id <id>', 'same as --property conversation_id=<id>')
    .option('--out <file>', 'write to FILE atomically (it appears only when the export is complete)')
    .addHelpText(
      'before',
      examples([
        'engram memories export --user-id alice --out alice.jsonl',
        'engram memories export --user-id alice --user-id bob --group default | gzip > backup.jsonl.gz',
        'engram memories export --user-id alice --topic ConversationSummary --conversation-id c1',
      ]),
    )
    .addHelpText(
      'after',
      '\nEach line is one memory as the API returns it, each memory once. The API returns at most 100\n' +
        'memories per list call and has no pagination: export lists each topic (per user) separately\n' +
        'and warns about every slice that hits the ceiling, with how to narrow it.\n',
    )
    .action(
      act(async (ctx, opts) => {
        const { memoriesExport } = await import('../commands/memories/export.js');
        return memoriesExport(ctx, opts as Record<string, never>);
      }),
    );

  // groups
  const groups = program.command('groups').description('groups and their topics');
  groups.addHelpText('before', examples(['engram groups list', 'engram groups list --json']));
  groups
    .command('list')
    .description('groups, topics, user scoping, scope properties, bounded')
    .addHelpText('before', examples(['engram groups list', 'engram groups list --json | jq \'.groups[].name\'']))
    .action(
      act(async (ctx) => {
        const { groupsList } = await import('../commands/groups/list.js');
        return groupsList(ctx);
      }),
    );

  // auth
  const auth = program.command('auth').description('store, check and remove API keys (named profiles)');
  auth.addHelpText('before', examples(['engram auth login', 'engram auth status', 'engram auth logout --profile staging']));
  auth
    .command('login')
    .description('verify a key with the service, then store it in the profile (config file, mode 0600)')
    .addHelpText(
      'before',
      examples(['engram auth login                      # asks for the key, input hidden', 'engram auth login --profile staging < key.txt', 'pass show engram | engram auth login']),
    )
    .action(
      act(async (ctx) => {
        const { authLogin } = await import('../commands/auth/login.js');
        return authLogin(ctx);
      }),
    );
  auth
    .command('status')
    .description('which key and base URL are in effect, from where, and whether the key is valid')
    .addHelpText('before', examples(['engram auth status', 'engram auth status --profile staging --json']))
    .addHelpText('after', '\nExit: 0 valid, 4 no key or rejected, 7 service unreachable\n')
    .action(
      act(async (ctx) => {
        const { authStatus } = await import('../commands/auth/status.js');
        return authStatus(ctx);
      }),
    );
  auth
    .command('logout')
    .description("remove the profile's stored key")
    .addHelpText('before', examples(['engram auth logout', 'engram auth logout --profile staging']))
    .action(
      act(async (ctx) => {
        const { authLogout } = await import('../commands/auth/logout.js');
        return authLogout(ctx);
      }),
    );

  // emulator
  program
    .command('emulator')
    .description('serve an Engram-compatible API on loopback, for offline use and tests')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', '4680')
    .option('--run-time <duration>', 'how long a run stays running before it completes', '2s')
    .option('--data <file>', 'persist state in this JSON file (written atomically)')
    .option('--key <key>', 'accept only this API key (repeatable; default: any eng_… key)', collect)
    .addHelpText(
      'before',
      examples([
        'engram emulator',
        'engram emulator --port 0 --run-time 500ms --data ./engram-state.json',
        'ENGRAM_BASE_URL=http://127.0.0.1:4680 ENGRAM_API_KEY=eng_local engram memories add "hi" --wait',
      ]),
    )
    .action(
      act(async (ctx, opts) => {
        const { emulatorCommand } = await import('../commands/emulator.js');
        return emulatorCommand(ctx, opts as Parameters<typeof emulatorCommand>[1]);
      }),
    );

  // completion
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('[shell]', 'bash, zsh or fish')
    .addHelpText(
      'before',
      examples([
        'source <(engram completion bash)            # in ~/.bashrc',
        'engram completion zsh > "${fpath[1]}/_engram"',
        'engram completion fish > ~/.config/fish/completions/engram.fish',
      ]),
    )
    .action(
      act(async (ctx, shell) => {
        const { completionCommand } = await import('../commands/completion.js');
        return completionCommand(ctx, shell as string | undefined, program);
      }),
    );

  // help
  program
    .command('help')
    .description('help on a command or a topic: exit-codes, environment, formats')
    .argument('[topic...]', 'a command (e.g. runs wait) or a topic')
    .action(function (this: Command, topic: string[]) {
      const key = topic.join(' ');
      const text = HELP_TOPICS[key];
      if (text) {
        io.stdout.write(text());
        return;
      }
      let cmd: Command = program;
      for (const word of topic) {
        const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
        if (!sub) {
          throw new UsageError(
            `no help for ${JSON.stringify(key)}`,
            `topics: ${Object.keys(HELP_TOPICS).join(', ')}; commands: ${program.commands.map((c) => c.name()).join(', ')}`,
          );
        }
        cmd = sub;
      }
      cmd.outputHelp();
    });

  // `engram help …` is the one help command; nouns get no implicit `help [command]` of their own.
  const noImplicitHelp = (c: Command) => {
    c.helpCommand(false);
    c.commands.forEach(noImplicitHelp);
  };
  noImplicitHelp(program);

  return program;
}

export { CommanderError };
