import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../api/errors.js';
import type { Context, Deps, GlobalOptions } from './context.js';
import { collect } from './flags.js';
import { HELP_TOPICS } from './help.js';
import { version } from '../version.js';

export type Action = (ctx: Context) => Promise<number>;

function examples(lines: string[]): string {
  return `Examples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

function addWaitFlags(cmd: Command, prefix = ''): Command {
  return cmd
    .option('--timeout <duration>', `${prefix}one deadline for the whole wait (default 10m, 0 = none, env ENGRAM_WAIT_TIMEOUT)`)
    .option('--interval <duration>', `${prefix}longest gap between polls (default 5s)`)
    .addOption(new Option('--until <status>', `${prefix}also stop at in_buffer (default completed)`).choices(['completed', 'in_buffer']))
    .option('--fail-fast', `${prefix}stop at the first failed run`)
    .option('--events', `${prefix}print NDJSON status changes on stdout`)
    .addOption(new Option('--concurrency <n>', 'requests in flight at once (1-64, default 16)').hideHelp());
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
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(s.replace(/^error: /, 'error: ')),
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
        'engram memories add --file notes.txt -q | engram runs wait -',
        'engram emulator --port 4680     # an offline Engram on loopback',
      ]) + '\n',
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
  runs.addHelpText('before', examples(['engram runs get <run-id>', 'engram runs wait <run-id> --timeout 5m']) + '\n');
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
      ]) + '\n',
    )
    .action(
      act(async (ctx, ids, opts) => {
        const { runsGet } = await import('../commands/runs/get.js');
        return runsGet(ctx, ids as string[], opts as { exitStatus?: boolean });
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
          'engram memories add --file notes.txt -q | engram runs wait -',
          'engram runs wait <id> --events | jq -c .status',
        ]) + '\n',
      )
      .addHelpText('after', '\nExit: 0 completed, 3 failed, 5 not found, 7 service unavailable, 124 deadline (engram help exit-codes)\n'),
  ).action(
    act(async (ctx, ids, opts) => {
      const { runsWait } = await import('../commands/runs/wait.js');
      return runsWait(ctx, ids as string[], opts as Record<string, string>);
    }),
  );

  // memories
  const memories = program.command('memories').description('add memories');
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
    .addHelpText(
      'before',
      examples([
        'engram memories add "The user prefers dark mode." --user-id alice',
        'engram memories add --file examples/conversation.json --user-id alice --wait',
        'cat notes.txt | engram memories add --file - --user-id alice -q',
        'engram memories add --file facts.txt --topic UserKnowledge --user-id alice',
      ]) + '\n',
    );
  addWaitFlags(add, 'with --wait: ').action(
    act(async (ctx, texts, opts) => {
      const { memoriesAdd } = await import('../commands/memories/add.js');
      return memoriesAdd(ctx, texts as string[], opts as Record<string, never>);
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
      ]) + '\n',
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
      ]) + '\n',
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

  return program;
}

export { CommanderError };
