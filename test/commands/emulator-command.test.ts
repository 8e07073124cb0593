import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

describe('engram emulator: bad --data is a usage error, found at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-emu-cmd-'));

  it('a corrupt data file: exit 2, names the file and the fix, not a bug report', async () => {
    const file = join(dir, 'corrupt.json');
    writeFileSync(file, '{"projects": [');
    const r = await cli(['emulator', '--port', '0', '--data', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: emulator data file ${file} is corrupt .*move it away or delete it`, 'm'));
    expect(r.stderr).not.toMatch(/bug/);
    expect(r.stdout).toBe('');
  });

  it('a data file in a directory that does not exist: exit 2 before serving', async () => {
    const file = join(dir, 'missing', 'state.json');
    const r = await cli(['emulator', '--port', '0', '--data', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`does not exist`);
    expect(r.stdout).toBe('');
  });

  it('bad flags are usage errors', async () => {
    expect((await cli(['emulator', '--port', '70000'])).code).toBe(2);
    expect((await cli(['emulator', '--run-time', 'soon'])).code).toBe(2);
    expect((await cli(['emulator', '--key', 'sk-123'])).code).toBe(2);
  });

  it('on every address it advertises a loopback URL the CLI will use, and stops cleanly', async () => {
    const { runCli } = await import('../../src/cli/run.js');
    const { testIO } = await import('../helpers/io.js');
    const { realClock } = await import('../../src/core/clock.js');
    const io = testIO();
    const ctrl = new AbortController();
    // Stop the emulator as soon as it has printed its URL.
    const write = io.out.write.bind(io.out);
    io.out.write = ((chunk: unknown, ...rest: unknown[]) => {
      const ok = (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      if (io.out.text.includes('\n')) ctrl.abort();
      return ok;
    }) as typeof io.out.write;
    const code = await runCli(['emulator', '--host', '0.0.0.0', '--port', '0'], { io, clock: realClock, signal: ctrl.signal });
    expect(code).toBe(0);
    expect(io.out.text).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(io.err.text).toContain('not loopback');
    expect(io.err.text).toContain('emulator stopped');
  });
});
