import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { makeProgram } from '../../src/cli/program.js';
import { testIO } from '../helpers/io.js';
import { realClock } from '../../src/core/clock.js';
import type { Command } from 'commander';
import { EXIT_CODE_TABLE } from '../../src/cli/exit-codes.js';

function allCommands(): string[][] {
  const program = makeProgram({ io: testIO(), clock: realClock, random: Math.random, signal: new AbortController().signal }, () => {});
  const out: string[][] = [];
  const visit = (c: Command, path: string[]) => {
    for (const sub of c.commands) {
      out.push([...path, sub.name()]);
      visit(sub, [...path, sub.name()]);
    }
  };
  visit(program, []);
  return out;
}

describe('help', () => {
  it.each(allCommands().filter((p) => p[0] !== 'help').map((p) => [p.join(' '), p]))('`engram %s --help` leads with examples', async (_name, path) => {
    const r = await cli([...(path as string[]), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Examples:\n {2}.*\bengram\b/);
    expect(r.stderr).toBe('');
  });

  it('`engram`, `engram help` and `engram help runs wait` all work', async () => {
    expect((await cli([])).code).toBe(0);
    const h = await cli(['help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: engram');
    const rw = await cli(['help', 'runs', 'wait']);
    expect(rw.stdout).toContain('Usage: engram runs wait');
  });

  it('help exit-codes prints every code of the table', async () => {
    const r = await cli(['help', 'exit-codes']);
    for (const [code, meaning] of EXIT_CODE_TABLE) expect(r.stdout).toContain(`${String(code).padStart(3)}  ${meaning}`);
  });

  it('help environment names every variable the code reads', async () => {
    const r = await cli(['help', 'environment']);
    for (const v of ['ENGRAM_API_KEY', 'ENGRAM_BASE_URL', 'ENGRAM_PROFILE', 'ENGRAM_WAIT_TIMEOUT', 'ENGRAM_DEBUG', 'NO_COLOR', 'FORCE_COLOR', 'TERM', 'COLUMNS', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME']) {
      expect(r.stdout).toContain(v);
    }
  });

  it('help formats describes the output formats and input readings', async () => {
    const r = await cli(['help', 'formats']);
    expect(r.stdout).toMatch(/ndjson/);
    expect(r.stdout).toMatch(/pre-extracted/);
  });

  it('an unknown command suggests the nearest', async () => {
    const r = await cli(['rnus', 'get', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: unknown command 'rnus'; did you mean runs?\n");
  });

  it('a mistyped flag is an error naming the right flag', async () => {
    const r = await cli(['runs', 'wait', 'x', '--timout', '5s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: unknown option '--timout'; did you mean --timeout?\n");
  });

  it('an unknown help topic is a usage error listing the topics', async () => {
    const r = await cli(['help', 'colours']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/topics: exit-codes, environment, formats/);
  });
});

describe('help without a command', () => {
  it('`engram` and `engram memories` print their help on stdout, exit 0', async () => {
    const root = await cli([]);
    expect(root.code).toBe(0);
    expect(root.stdout).toContain('Usage: engram');
    expect(root.stderr).toBe('');
    const noun = await cli(['memories']);
    expect(noun.stdout).toContain('Usage: engram memories');
    expect(noun.stderr).toBe('');
  });
});
