// Start-up cost and package size (issue "ready for real users").
// Each command is timed beside `node -e 0` in the same run, interleaved (A B C D A B C D …) so
// machine noise hits all alike; figures are medians and ratios to `node -e 0`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, fmt, median, root, startEmulatorProcess } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const emu = await startEmulatorProcess(['--run-time', '0s']);
const KEY = 'eng_bench_key';
const env = { ...process.env, ENGRAM_BASE_URL: emu.url, ENGRAM_API_KEY: KEY };
const added = await fetch(`${emu.url}/v1/memories`, {
  method: 'POST',
  headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
  body: JSON.stringify({ input: { string: { content: ['Start-up bench. Second sentence.'] } }, user_id: 'bench' }),
}).then((r) => r.json());

const cases = [
  { name: '`node -e 0` (baseline)', args: ['-e', '0'] },
  { name: '`engram --version`', args: [bin, '--version'], target: 1.2 },
  { name: '`engram --help`', args: [bin, '--help'] },
  { name: '`engram runs get <id> --json`', args: [bin, 'runs', 'get', added.run_id, '--json'], target: 1.5 },
  { name: '`engram runs get <id>` (piped, plain)', args: [bin, 'runs', 'get', added.run_id] },
];
const times = cases.map(() => []);
for (let i = 0; i < RUNS + 3; i++) {
  cases.forEach((c, j) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, c.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`);
    if (i >= 3) times[j].push(ms); // 3 warm-up rounds
  });
}
await emu.stop();
const base = median(times[0]);
const out = ['## Start-up\n'];
out.push(`Each command run ${RUNS} times interleaved with \`node -e 0\` (after 3 warm-up rounds), against \`engram emulator\` on loopback. Median wall time and ratio to the baseline measured in the same run.\n`);
out.push('| command | median | ratio to `node -e 0` | target | met |');
out.push('|---|---|---|---|---|');
cases.forEach((c, j) => {
  const m = median(times[j]);
  const ratio = m / base;
  out.push(`| ${c.name} | ${fmt(m, 1)} ms | ${fmt(ratio, 2)}× | ${c.target ? `≤ ${c.target}×` : ''} | ${c.target ? (ratio <= c.target ? 'yes' : 'NO') : ''} |`);
});

// Package: what `npm pack` ships and what a global install brings in.
const packDir = mkdtempSync(join(tmpdir(), 'engram-pack-'));
const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
const info = JSON.parse(pack.stdout)[0];
const prefix = join(packDir, 'prefix');
const inst = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(packDir, info.filename)], { encoding: 'utf8' });
if (inst.status !== 0) throw new Error(`npm install -g failed: ${inst.stderr}`);
const modDir = join(prefix, 'lib', 'node_modules');
const countPackages = (dir) => {
  let n = 0;
  for (const e of readdirSync(dir)) {
    if (e.startsWith('.')) continue;
    if (e.startsWith('@')) n += countPackages(join(dir, e));
    else {
      n++;
      const nested = join(dir, e, 'node_modules');
      try {
        if (statSync(nested).isDirectory()) n += countPackages(nested);
      } catch {}
    }
  }
  return n;
};
const du = (p) => {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((s, e) => s + du(join(p, e)), 0);
};
const installed = du(join(modDir, info.name));
const deps = countPackages(modDir) - 1;
rmSync(packDir, { recursive: true, force: true });
out.push('');
out.push('**Package** (`npm pack`, then `npm install -g --prefix <tmp> ./engram-cli-*.tgz`):\n');
out.push('| measure | value |');
out.push('|---|---|');
out.push(`| tarball size | ${fmt(info.size / 1024, 1)} KiB (${info.entryCount} files) |`);
out.push(`| unpacked size | ${fmt(info.unpackedSize / 1024, 1)} KiB |`);
out.push(`| installed size (package directory) | ${fmt(installed / 1024, 1)} KiB |`);
out.push(`| runtime dependencies installed | ${deps} |`);
out.push('\nCommand: `npm run bench -- startup`');
console.log(out.join('\n'));
