import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/fake-clock.js';
import { startEmulator } from '../../src/emulator/server.js';
import { loadStore, Persister, removeStaleTemps } from '../../src/emulator/store.js';
import { expectProblem, opIds, RUN_TIME, startHarness } from './helpers.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'engram-emu-'));
  file = join(dir, 'state.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entries = () => readdirSync(dir).sort();

describe('--data FILE', () => {
  it('round-trips projects, runs, memories, buffers and pinned statuses across a restart', async () => {
    const clock = new FakeClock();
    const a = await startHarness({ dataFile: file, clock });
    const done = await a.addText('alice', ['I like tea. I live in Porto.']);
    a.clock.advance(RUN_TIME);
    const completed = await a.run(done);
    const buffered = await a.addText('alice', ['Digest one.'], { group: 'digest' });
    const pinned = await a.addText('alice', ['Pinned.']);
    await a.call('POST', `/_emulator/runs/${pinned}`, { body: { status: 'paused' }, key: null });
    a.clock.advance(RUN_TIME);
    expect((await a.run(buffered)).status).toBe('in_buffer');
    const groups = (await a.call('GET', '/v1/groups')).json;
    await a.close();

    const b = await startHarness({ dataFile: file, clock: new FakeClock(clock.now() + 60_000) });
    try {
      expect(await b.run(done)).toEqual({ ...completed, $schema: `${b.emu.url}/schemas/Run.json` });
      expect((await b.call('GET', '/v1/groups')).json.groups).toEqual(groups.groups);
      const [mid] = opIds(completed).created;
      expect((await b.call('GET', `/v1/memories/${mid}?user_id=ALICE`)).status).toBe(200);
      const search = await b.call('POST', '/v1/memories/search', {
        body: { query: 'porto', user_id: 'alice', retrieval_config: { retrieval_type: 'bm25' } },
      });
      expect(search.json.memories.map((m: any) => m.content)).toEqual(['I live in Porto.']);
      expect((await b.run(pinned)).status).toBe('paused');
      expect((await b.run(buffered)).status).toBe('in_buffer');
      await b.call('POST', '/_emulator/groups/digest/flush', { key: null });
      expect((await b.run(buffered)).status).toBe('completed');
      expect(b.emu.stats()).toMatchObject({ projects: 1, runs: 3 });
    } finally {
      await b.close();
    }
  });

  it('answers a mutating request only once its state is on disk', async () => {
    const h = await startHarness({ dataFile: file });
    try {
      const id = await h.addText('alice', ['Durable.']);
      expect(readFileSync(file, 'utf8')).toContain(id);
      // A read that moves a run on (lazy settle) is also saved before it answers.
      h.clock.advance(RUN_TIME);
      const run = await h.run(id);
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      expect(saved.runs.find((r: any) => r.run_id === id).status).toBe('completed');
      expect(saved.projects[0].memories.map((m: any) => m.id)).toEqual(opIds(run).created);
      expect(readFileSync(file, 'utf8')).not.toContain('eng_'); // keys are never stored
      expect(statSync(file).mode & 0o777).toBe(0o600); // memories are private data
      await h.call('DELETE', `/v1/memories/${opIds(run).created[0]}?user_id=alice`);
      expect(JSON.parse(readFileSync(file, 'utf8')).projects[0].memories).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('keeps the file whole under concurrent writes (group commit) and leaves no temp files', async () => {
    const h = await startHarness({ dataFile: file });
    try {
      await h.addText('alice', ['Warm up.']);
      let reads = 0;
      let stop = false;
      const reader = (async () => {
        while (!stop) {
          JSON.parse(await readFile(file, 'utf8')); // throws on a partial file
          reads++;
        }
      })();
      const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => h.addText('alice', [`Fact ${i}.`])));
      stop = true;
      await reader;
      expect(reads).toBeGreaterThan(0);
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      for (const id of ids) expect(saved.runs.some((r: any) => r.run_id === id)).toBe(true);
      expect(entries()).toEqual(['state.json']);
    } finally {
      await h.close();
    }
  });

  it('refuses to start on a corrupt file, naming it', async () => {
    writeFileSync(file, '{"format": "engram-emulator/1", "projects": [');
    await expect(startEmulator({ port: 0, dataFile: file, clock: new FakeClock() })).rejects.toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt`),
    );
    writeFileSync(file, JSON.stringify({ format: 'engram-emulator/1', projects: [{ key: 1 }], runs: [] }));
    await expect(startEmulator({ port: 0, dataFile: file, clock: new FakeClock() })).rejects.toThrow(/data\.projects\[0\]/);
    writeFileSync(file, JSON.stringify({ something: 'else' }));
    await expect(startEmulator({ port: 0, dataFile: file, clock: new FakeClock() })).rejects.toThrow(/corrupt/);
  });

  it('starts empty when the file does not exist yet, and creates it on the first change', async () => {
    const h = await startHarness({ dataFile: file });
    try {
      expect(entries()).toEqual([]);
      await h.call('GET', '/health');
      expect(entries()).toEqual([]);
      await h.addText('alice', ['First.']);
      expect(entries()).toEqual(['state.json']);
    } finally {
      await h.close();
    }
  });

  it('answers 500 (and logs) when a save fails, removes its temp file, and keeps serving', async () => {
    const h = await startHarness({ dataFile: file });
    try {
      // FILE turns into a non-empty directory: the temp file is written, the rename over FILE fails.
      mkdirSync(file);
      writeFileSync(join(file, 'keep'), 'x');
      const p = expectProblem(
        await h.call('POST', '/v1/memories', { body: { input: { string: { content: ['x.'] } }, user_id: 'a' } }),
        500,
      );
      expect(p.detail).toMatch(/rename/);
      expect(h.logs.some((l) => l.startsWith('error: POST /v1/memories'))).toBe(true);
      expect(entries()).toEqual(['state.json']);
      expect(readdirSync(file)).toEqual(['keep']);
      expect((await h.call('GET', '/health')).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('removes temp files left by a killed emulator, but not those of a live process', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(dir, `.state.json.${dead}.abcdef.tmp`), '{"partial');
    writeFileSync(join(dir, `.state.json.${process.pid}.123456.tmp`), '{"in flight');
    writeFileSync(join(dir, 'unrelated.tmp'), 'x');
    expect(await removeStaleTemps(file)).toEqual([`.state.json.${dead}.abcdef.tmp`]);
    expect(entries()).toEqual([`.state.json.${process.pid}.123456.tmp`, 'unrelated.tmp']);
  });
});

describe('kill -9', () => {
  it('leaves the file holding a whole state (old or new) when the process dies mid-stream', async () => {
    const bundle = join(dir, 'emulator.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('../../src/emulator/server.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'silent',
    });
    const code = `const { startEmulator } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
      const emu = await startEmulator({ port: 0, dataFile: process.env.DATA_FILE });
      process.stdout.write(emu.url + '\\n');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, DATA_FILE: file },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked: string[] = [];
    try {
      const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
      const url = chunk.toString().trim();
      const add = (i: number) =>
        fetch(`${url}/v1/memories`, {
          method: 'POST',
          headers: { Authorization: 'Bearer eng_test_alpha', 'Content-Type': 'application/json' },
          body: JSON.stringify({ input: { string: { content: [`Fact ${i}. ${'padding '.repeat(200)}`] } }, user_id: 'a' }),
        })
          .then(async (r) => (r.status === 200 ? ((await r.json()) as { run_id: string }).run_id : undefined))
          .catch(() => undefined)
          .then((id) => {
            if (id) acked.push(id);
            return id;
          });
      await Promise.all(Array.from({ length: 20 }, (_, i) => add(i)));
      expect(acked).toHaveLength(20);
      // Kill it while it is busy: once ten of 200 concurrent adds have been answered.
      const inFlight = Array.from({ length: 200 }, (_, i) =>
        add(100 + i).then(() => {
          if (acked.length >= 30) child.kill('SIGKILL');
        }),
      );
      await once(child, 'exit');
      await Promise.all(inFlight);
    } finally {
      child.kill('SIGKILL');
    }
    const store = await loadStore(file); // parses and validates: never a torn file
    // Every add that was answered had reached the disk first.
    for (const id of acked) expect(store.runs.has(id), id).toBe(true);
    // A restart removes whatever temp file the killed process left behind.
    const again = await startEmulator({ port: 0, dataFile: file, clock: new FakeClock() });
    await again.close();
    expect(entries().filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 20_000);
});

describe('Persister (group commit)', () => {
  it('keeps one write in flight and coalesces everything that arrives meanwhile into the next', async () => {
    const written: string[] = [];
    const releases: (() => void)[] = [];
    let state = 0;
    const p = new Persister(
      () => `state-${state}`,
      (text) =>
        new Promise<void>((resolve) => {
          written.push(text);
          releases.push(resolve);
        }),
    );
    const first = p.save();
    state = 1;
    const others = [p.save(), p.save(), p.save()];
    state = 2;
    const last = p.save();
    expect(written).toEqual(['state-0']);
    releases.shift()!();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(written).toEqual(['state-0', 'state-2']);
    releases.shift()!();
    await Promise.all([...others, last]);
    expect(p.writes).toBe(2);
    await p.idle();
  });

  it('reports a failed write to every waiter, and the next save tries again', async () => {
    let fail = true;
    const p = new Persister(
      () => 's',
      async () => {
        if (fail) throw new Error('disk full');
      },
    );
    await expect(p.save()).rejects.toThrow('disk full');
    fail = false;
    await expect(p.save()).resolves.toBeUndefined();
  });
});
