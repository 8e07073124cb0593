// `npm run demo`: the main job end to end against the bundled emulator, with the real binary.
// Starts the emulator on a free loopback port, adds a conversation, waits for the run with a
// spinner, shows the run, then stops the emulator. Nothing is left running.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/engram.cjs', import.meta.url));

const emulator = spawn(process.execPath, [bin, 'emulator', '--port', '0', '--run-time', '3s'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const stop = () => {
  if (emulator.exitCode === null) emulator.kill('SIGTERM');
};
process.on('exit', stop);
process.on('SIGINT', () => {
  stop();
  process.exit(130);
});

const url = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: emulator.stdout });
  rl.once('line', (line) => resolve(line.trim()));
  emulator.once('exit', (code) => reject(new Error(`emulator exited with ${code} before it was ready`)));
});

// The demo's run history and config go to a scratch directory, removed at the end: trying the
// tool leaves nothing in your home.
const scratch = mkdtempSync(join(tmpdir(), 'engram-demo-'));
const env = {
  ...process.env,
  ENGRAM_BASE_URL: url,
  ENGRAM_API_KEY: 'eng_demo_local',
  XDG_STATE_HOME: join(scratch, 'state'),
  XDG_CONFIG_HOME: join(scratch, 'config'),
};
const say = (s) => process.stderr.write(`\n\x1b[1m$ ${s}\x1b[0m\n`.replace(/\x1b\[[0-9;]*m/g, process.stderr.isTTY ? '$&' : ''));
const engram = (args, capture = false) => {
  say(`engram ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'], encoding: 'utf8' });
  if (capture) process.stdout.write(r.stdout);
  return r;
};

let failed = false;
try {
  process.stderr.write(`Demo against the bundled emulator at ${url} (ENGRAM_BASE_URL), runs take 3s.\n`);
  const add = engram(['memories', 'add', '--file', 'examples/conversation.json', '--user-id', 'alice', '-q'], true);
  if (add.status !== 0) throw new Error(`memories add exited ${add.status}`);
  const runId = add.stdout.trim();
  const wait = engram(['runs', 'wait', runId]);
  if (wait.status !== 0) throw new Error(`runs wait exited ${wait.status}`);
  engram(['runs', 'get', runId]);
  const again = engram(['memories', 'add', '--file', 'examples/notes.txt', '--user-id', 'alice', '--wait', '--json']);
  if (again.status !== 0) throw new Error(`memories add --wait exited ${again.status}`);
  const bad = engram(['memories', 'add', '--file', 'examples/failing-conversation.json', '--user-id', 'alice', '--wait']);
  process.stderr.write(`(exit code ${bad.status}: a run that ends failed exits 3)\n`);
  if (bad.status !== 3) throw new Error(`expected exit 3 for a failed run, got ${bad.status}`);
} catch (err) {
  failed = true;
  process.stderr.write(`demo failed: ${err.message}\n`);
} finally {
  stop();
  await new Promise((r) => (emulator.exitCode !== null ? r() : emulator.once('exit', r)));
  rmSync(scratch, { recursive: true, force: true });
}
process.stderr.write(failed ? '' : '\nDone. The emulator has stopped.\n');
process.exit(failed ? 1 : 0);
