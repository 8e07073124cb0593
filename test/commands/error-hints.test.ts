import { describe, expect, it } from 'vitest';
import { cli, closedPortUrl } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const emu = useEmulator();
const run = (argv: string[], env: Record<string, string> = {}) => cli(argv, { env: { ...emu.env, ...env }, clock: emu.clock });

describe('API and network errors say how to fix them', () => {
  it.each([
    ['401', ['memories', 'add', 'x', '--user-id', 'u'], { ENGRAM_API_KEY: 'not-an-engram-key' }, 4, /engram auth status/],
    ['400 user_id', ['memories', 'add', 'x'], {}, 6, /^ {2}pass --user-id$/m],
    ['422 wrong-case topic', ['memories', 'add', 'x', '--user-id', 'u', '--topic', 'userknowledge'], {}, 6, /case-sensitive: engram groups list/],
  ] as const)('%s', async (_n, argv, env, code, hint) => {
    const r = await run([...argv], env);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toMatch(hint);
  });

  it('429 plan limit', async () => {
    await emu.control('/_emulator/faults', { method: 'POST', path: '/v1/memories', count: 1, status: 429, body: { detail: 'monthly run limit reached' } });
    const r = await run(['memories', 'add', 'x', '--user-id', 'u']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/monthly run limit is used up; nothing was queued/);
  });

  it('connection refused', async () => {
    const r = await run(['runs', 'get', '019e8742-5a4d-7698-88a5-f714efe876d1'], { ENGRAM_BASE_URL: await closedPortUrl() });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/check --base-url \/ ENGRAM_BASE_URL and the network/);
  });
});
