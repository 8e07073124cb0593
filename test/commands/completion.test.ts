import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

let script: string;
beforeAll(async () => {
  const r = await cli(['completion', 'bash']);
  expect(r.code).toBe(0);
  script = join(mkdtempSync(join(tmpdir(), 'engram-compl-')), 'engram.bash');
  writeFileSync(script, r.stdout);
});

/** What bash offers for `engram <words…>` with the cursor on the last word. */
function complete(line: string): string[] {
  const words = line.split(' ');
  const arr = ['engram', ...words].map((w) => `'${w}'`).join(' ');
  const r = spawnSync('bash', ['-c', `source '${script}'; COMP_WORDS=(${arr}); COMP_CWORD=${words.length}; _engram_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('engram completion bash', () => {
  it('completes commands', () => {
    expect(complete('ru')).toEqual(['runs']);
    expect(complete('runs ')).toEqual(expect.arrayContaining(['get', 'wait']));
    expect(complete('memories a')).toEqual(['add']);
  });
  it('completes flags of the command and the global ones', () => {
    expect(complete('runs wait --ti')).toEqual(['--timeout']);
    expect(complete('runs get --exi')).toEqual(['--exit-status']);
    expect(complete('runs wait --js')).toEqual(['--json']);
  });
  it('completes enum values after their flag', () => {
    expect(complete('runs wait abc --until ')).toEqual(['completed', 'in_buffer']);
    expect(complete('memories add --type c')).toEqual(['conversation']);
    expect(complete('runs get x -o nd')).toEqual(['ndjson']);
    expect(complete('--color a')).toEqual(['always', 'auto']);
  });
  it('completes help topics and commands after help', () => {
    expect(complete('help e')).toEqual(['emulator', 'environment', 'exit-codes']);
    expect(complete('help fo')).toEqual(['formats']);
  });
  it('skips flag values when finding the command', () => {
    expect(complete('--base-url runs runs g')).toEqual(['get']);
  });
});

describe('engram completion', () => {
  it('zsh and fish scripts are generated', async () => {
    const zsh = await cli(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef engram/);
    const fish = await cli(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c engram -n '__fish_seen_subcommand_from runs; and __fish_seen_subcommand_from wait' -l until -x -a 'completed in_buffer'");
    const check = spawnSync('bash', ['-n'], { input: (await cli(['completion', 'bash'])).stdout });
    expect(check.status).toBe(0);
  });
  it('an unknown shell is a usage error', async () => {
    const r = await cli(['completion', 'powershell']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unsupported shell "powershell"; use: engram completion bash\|zsh\|fish/);
  });
});
