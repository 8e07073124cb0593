import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { KEY, scratchDir } from '../helpers/cli.js';

// The real binary (bin/engram.cjs → dist/, built by `npm test`'s pretest) against a real
// emulator on an ephemeral port, in real time. Runs are pinned through the control surface,
// so nothing here depends on timing.
const bin = fileURLToPath(new URL('../../bin/engram.cjs', import.meta.url));
let emu: Emulator;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, runTimeMs: 100 });
  env = {
    PATH: process.env.PATH ?? '',
    ENGRAM_BASE_URL: emu.url,
    ENGRAM_API_KEY: KEY,
    XDG_CONFIG_HOME: scratchDir('config'),
    XDG_STATE_HOME: scratchDir('state'),
  };
});
const children: ChildProcess[] = [];
afterEach(() => {
  // A failed test must not leave a process behind (a wedged one ignores SIGTERM).
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await emu.close();
});

async function addHeld(status = 'running'): Promise<string> {
  const res = await fetch(emu.url + '/v1/memories', {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { string: { content: ['Spawned test.'] } }, user_id: 'alice' }),
  });
  const { run_id } = (await res.json()) as { run_id: string };
  await fetch(`${emu.url}/_emulator/runs/${run_id}`, { method: 'POST', body: JSON.stringify({ status }) });
  return run_id;
}

/** Run the binary to completion. Asynchronous: the emulator lives in this process. */
async function engram(args: string[], input?: string) {
  const child = spawn(process.execPath, [bin, ...args], { env });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.end(input ?? '');
  const [status] = await once(child, 'close'); // 'close' comes after the last output; 'exit' may not
  return { status: status as number, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

/** Start a process and resolve once its stderr contains `marker`. */
async function startUntil(cmd: string, args: string[], marker: RegExp) {
  const child = spawn(cmd, args, { env: { ...env, TERM: 'xterm' } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      err += d;
      if (marker.test(err) || marker.test(out)) resolve();
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', () => marker.test(out) && resolve());
    child.once('exit', () => reject(new Error(`exited early: ${err}${out}`)));
  });
  return { child, output: () => ({ out, err }) };
}

describe('bin/engram', () => {
  it('--version prints the package version', async () => {
    const r = await engram(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('memories add -q | runs wait - (a pipeline), piped output has no escape byte', async () => {
    const add = await engram(['memories', 'add', 'The user sails.', '--user-id', 'alice', '-q']);
    expect(add.status).toBe(0);
    const wait = await engram(['runs', 'wait', '-'], add.stdout.toString());
    expect(wait.status).toBe(0);
    expect(wait.stdout.toString()).toMatch(/ completed · ran [\d.]+m?s · waited /);
    expect(wait.stdout.includes(0x1b)).toBe(false);
    expect(wait.stderr.includes(0x1b)).toBe(false);
  });

  it('SIGINT while waiting: exit 130 and the resume hint', async () => {
    const id = await addHeld();
    const { child, output } = await startUntil(process.execPath, [bin, 'runs', 'wait', id], new RegExp(`${id}: running`));
    child.kill('SIGINT');
    const [code] = await once(child, 'close'); // 'close': after the last output arrived ('exit' can come first)
    expect(code).toBe(130);
    expect(output().err).toContain(`resume with \`engram runs wait ${id}\``);
  });

  it('SIGTERM while waiting: exit 143', async () => {
    const id = await addHeld();
    const { child } = await startUntil(process.execPath, [bin, 'runs', 'wait', id], new RegExp(`${id}: running`));
    child.kill('SIGTERM');
    const [code] = await once(child, 'close'); // 'close': after the last output arrived ('exit' can come first)
    expect(code).toBe(143);
  });

  it('Ctrl-C on a terminal: the spinner stops and the cursor is shown again', async () => {
    const id = await addHeld();
    // `script` gives the CLI a real pseudo-terminal.
    const cmd = `stty cols 100 rows 30; ${process.execPath} ${bin} runs wait ${id}`;
    const { child, output } = await startUntil('script', ['-qfec', cmd, '/dev/null'], /running(\u001b\[\d+m)? · /);
    child.stdin.write('\u0003'); // Ctrl-C, through the terminal's line discipline
    await once(child, 'close');
    const all = output().out;
    expect(all).toContain('\u001b[?25l'); // cursor hidden while spinning
    expect(all.lastIndexOf('\u001b[?25h')).toBeGreaterThan(all.lastIndexOf('\u001b[?25l')); // and shown again
    expect(all).toContain('resume with');
  });

  it('| head -1 ends quietly (EPIPE), no stack trace', () => {
    const r = spawnSync('bash', ['-c', `node ${bin} help exit-codes | head -1`], { env, encoding: 'utf8' });
    expect(r.stdout).toMatch(/^Exit codes/);
    expect(r.stderr).not.toMatch(/Error|at /);
  });
});

describe('bin/engram: a bulk add whose stdout reader goes away', () => {
  it('| head -1: stops, records every accepted run in the history, says what was left, exit 141', async () => {
    const { mkdtempSync, writeFileSync, readFileSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'engram-pipe-bulk-'));
    const input = join(dir, 'lines.jsonl');
    writeFileSync(input, Array.from({ length: 400 }, (_, i) => JSON.stringify(`Piped fact ${i}.`)).join('\n') + '\n');
    const before = emu.stats().runs;
    const child = spawn('bash', ['-c', `"${process.execPath}" "${bin}" memories add --jsonl "${input}" --user-id pipe --concurrency 2 | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`], {
      env: { ...env, XDG_STATE_HOME: join(dir, 'state') },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    await once(child, 'close');
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/rc=141\n$/);
    expect(err).not.toMatch(/at .*\.cjs:\d+/); // no stack trace
    const created = emu.stats().runs - before;
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(400);
    const history = join(dir, 'state', 'engram', 'history.jsonl');
    expect(existsSync(history)).toBe(true);
    const recorded = readFileSync(history, 'utf8').trim().split('\n').length;
    expect(recorded).toBe(created);
  });
});
