// Bulk add: `engram memories add --jsonl` of 10,000 short lines against `engram emulator` (its
// own process, state reset between configurations), at concurrency 1, 4 and 16, beside the
// baseline of one `engram memories add` process per line. The baseline is measured on a sample
// (BENCH_BASELINE_SAMPLE lines, default 200, one process after another) and extrapolated to the
// full size, as the table says. Wall time is from spawn to exit of the CLI process; peak RSS is
// that process's own (process.resourceUsage().maxRSS, written by an --import hook on exit).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, fmt, median, readRss, rssFlags, run, startEmulatorProcess } from './lib.mjs';

const LINES = Number(process.env.BENCH_LINES ?? 10_000);
const SAMPLE = Number(process.env.BENCH_BASELINE_SAMPLE ?? 200);
const REPEATS = Number(process.env.BENCH_RUNS ?? 3);
const CONCURRENCY = [1, 4, 16];
const KEY = 'eng_bench_bulk_key';

const dir = mkdtempSync(join(tmpdir(), 'engram-bulk-bench-'));
const input = join(dir, 'facts.jsonl');
writeFileSync(input, Array.from({ length: LINES }, (_, i) => JSON.stringify(`The user noted fact number ${i + 1}.`)).join('\n') + '\n');
// Runs stay `running` (no commit work in the emulator), so the server side stays cheap and flat.
const emu = await startEmulatorProcess(['--run-time', '1h']);
const env = { ENGRAM_BASE_URL: emu.url, ENGRAM_API_KEY: KEY, XDG_STATE_HOME: join(dir, 'state'), XDG_CONFIG_HOME: join(dir, 'config') };
const reset = () => fetch(`${emu.url}/_emulator/reset`, { method: 'POST' });
const rssFile = join(dir, 'rss');

async function measure(args) {
  const { args: flags, env: rssEnv } = rssFlags(rssFile);
  const r = await run(process.execPath, [...flags, bin, ...args], { env: { ...env, ...rssEnv } });
  if (r.code !== 0) throw new Error(`engram ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 500)}`);
  return { ms: r.ms, rss: readRss(rssFile), stdout: r.stdout };
}

const rows = [];
for (const c of CONCURRENCY) {
  const ms = [];
  const rss = [];
  for (let i = 0; i < REPEATS; i++) {
    await reset();
    rmSync(env.XDG_STATE_HOME, { recursive: true, force: true });
    const m = await measure(['memories', 'add', '--jsonl', input, '--user-id', 'bench', '--concurrency', String(c), '-q']);
    const accepted = m.stdout.split('\n').filter((l) => l.includes('"accepted"')).length;
    if (accepted !== LINES) throw new Error(`concurrency ${c}: ${accepted} of ${LINES} accepted`);
    ms.push(m.ms);
    rss.push(m.rss);
  }
  rows.push({ name: `\`--jsonl\`, \`--concurrency ${c}\``, ms: median(ms), rss: median(rss), measured: `${REPEATS} × ${fmt(LINES)} lines` });
}

// Baseline: one process per line, sequentially, on a sample.
await reset();
const perProcess = [];
const perRss = [];
const t0 = performance.now();
for (let i = 0; i < SAMPLE; i++) {
  const m = await measure(['memories', 'add', `The user noted fact number ${i + 1}.`, '--user-id', 'bench', '-q']);
  perProcess.push(m.ms);
  perRss.push(m.rss);
}
const sampleMs = performance.now() - t0;
const baselineMs = (sampleMs / SAMPLE) * LINES;
await emu.stop();
rmSync(dir, { recursive: true, force: true });

const mib = (b) => `${fmt(b / 1024 / 1024, 1)} MiB`;
const secs = (ms) => `${fmt(ms / 1000, 1)} s`;
const out = ['## Bulk add\n'];
out.push(
  `\`engram memories add --jsonl\` of ${fmt(LINES)} short lines (one JSON string each) against \`engram emulator\` in its own process on loopback ` +
    `(runs kept \`running\`, state reset before each measurement), history written to a temp \`XDG_STATE_HOME\`. ` +
    `Wall time from spawn to exit of the CLI process (median of ${REPEATS}), peak RSS of that process (\`process.resourceUsage().maxRSS\`, median). ` +
    `The baseline runs one \`engram memories add TEXT -q\` process per line, one after another; it was measured on **${SAMPLE} lines and extrapolated** ×${fmt(LINES / SAMPLE, 0)} to ${fmt(LINES)}.\n`,
);
out.push(`| mode | measured on | wall time (${fmt(LINES)} lines) | adds/s | peak RSS of the CLI | speed-up vs baseline |`);
out.push('|---|---|---|---|---|---|');
out.push(
  `| one process per line (baseline) | ${SAMPLE} lines, extrapolated | ${secs(baselineMs)} | ${fmt((LINES / baselineMs) * 1000, 0)} | ${mib(median(perRss))} per process (median; max ${mib(Math.max(...perRss))}) | 1.0× |`,
);
for (const r of rows) {
  out.push(`| ${r.name} | ${r.measured} | ${secs(r.ms)} | ${fmt((LINES / r.ms) * 1000, 0)} | ${mib(r.rss)} | ${fmt(baselineMs / r.ms, 1)}× |`);
}
out.push(`\nBaseline detail: median ${fmt(median(perProcess), 0)} ms per process (start-up dominates).\n`);
out.push('Command: `npm run bench -- bulk-add` (env `BENCH_LINES`, `BENCH_BASELINE_SAMPLE`, `BENCH_RUNS` to change the sizes).');
process.stdout.write(out.join('\n') + '\n');
