import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/fake-clock.js';
import { startEmulator } from '../../src/emulator/server.js';
import { loadStore } from '../../src/emulator/store.js';
import { ENGRAM_BIN } from '../helpers/bin.js';

// `engram emulator --data FILE` killed with SIGKILL at several random moments, while 100
// clients add and read: FILE always holds a whole state, the old or the new, never a torn one;
// every add that was answered is in it; a restart cleans up and carries on from it.

const dir = mkdtempSync(join(tmpdir(), 'engram-kill-'));
const file = join(dir, 'state.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [ENGRAM_BIN, 'emulator', '--port', '0', '--data', file, '--run-time', '50ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(l.trim()));
    child.once('exit', (c) => reject(new Error(`emulator exited ${c}: ${child.stderr?.read()?.toString() ?? ''}`)));
  });
  return { child, url };
}

// Random moments: after how many answered adds the process dies (0 = as soon as it is up).
const moments = [0, ...Array.from({ length: 5 }, () => 1 + Math.floor(Math.random() * 120))];

describe('kill -9 at random moments', () => {
  const acked = new Set<string>();
  const sent = new Set<string>();
  let previous: Set<string> = new Set();

  it.each(moments.map((m, i) => [i + 1, m]))('round %i: killed after %i answered adds', async (_round, moment) => {
    const { child, url } = await start();
    const kill = () => {
      if (child.exitCode === null && !child.killed) child.kill('SIGKILL');
    };
    let answered = 0;
    if (moment === 0) kill();
    const add = async (c: number, i: number) => {
      const content = `Client ${c} fact ${i} ${'padding '.repeat(300)}.`; // big states: each write takes a while
      sent.add(content);
      try {
        const res = await fetch(`${url}/v1/memories`, {
          method: 'POST',
          headers: { Authorization: 'Bearer eng_kill_test', 'Content-Type': 'application/json' },
          body: JSON.stringify({ input: { string: { content: [content] } }, user_id: `u${c}` }),
        });
        if (res.status !== 200) return false;
        acked.add(((await res.json()) as { run_id: string }).run_id);
        if (++answered >= moment) kill();
        // Reads move runs on (and so write the file) too.
        await fetch(`${url}/v1/runs/${[...acked].at(-1)}`, { headers: { Authorization: 'Bearer eng_kill_test' } });
        return true;
      } catch {
        return false; // the process died under this request: its outcome is unknown
      }
    };
    const client = async (c: number) => {
      for (let i = 0; i < 1000; i++) if (!(await add(c, i))) return;
    };
    await Promise.all([once(child, 'exit'), ...Array.from({ length: 100 }, (_, c) => client(c))]);

    // The file is whole (it parses and validates) and holds every answered add...
    const store = existsSync(file) ? await loadStore(file) : undefined;
    const ids = new Set(store ? store.runs.keys() : []);
    for (const id of acked) expect(ids.has(id), `answered run ${id} is missing`).toBe(true);
    // ...and nothing that was never sent; and it never went back to an older state.
    for (const id of previous) expect(ids.has(id)).toBe(true);
    for (const run of store?.runs.values() ?? []) for (const item of run.items) expect(sent.has(item.content)).toBe(true);
    for (const p of store?.projects.values() ?? []) for (const m of p.memories.values()) expect(sent.has(m.content)).toBe(true);
    if (moment > 0) expect(answered).toBeGreaterThanOrEqual(moment); // it died when we killed it, not before
    previous = ids;
    // Only the data file and, perhaps, the temp file of the write the kill interrupted.
    const others = readdirSync(dir).filter((n) => n !== 'state.json');
    expect(others.every((n) => /^\.state\.json\.\d+\.[0-9a-z]+\.tmp$/.test(n)), others.join(', ')).toBe(true);
  }, 30_000);

  it('a restart on the file serves every answered run and removes the stale temp files', async () => {
    const emu = await startEmulator({ port: 0, dataFile: file, clock: new FakeClock() });
    try {
      expect(readdirSync(dir)).toEqual(existsSync(file) ? ['state.json'] : []);
      for (const id of [...acked].slice(-20)) {
        const res = await fetch(`${emu.url}/v1/runs/${id}`, { headers: { Authorization: 'Bearer eng_kill_test' } });
        expect(res.status).toBe(200);
      }
      expect(acked.size).toBeGreaterThan(0);
      expect(emu.stats().runs).toBeGreaterThanOrEqual(acked.size);
      JSON.parse(readFileSync(file, 'utf8'));
    } finally {
      await emu.close();
    }
  });
});
