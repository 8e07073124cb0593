// The emulator under load: 200 concurrent clients on loopback, each adding a memory and polling
// its run until it finishes, for 30 s (ENGRAM_LOAD_SECONDS to change it); then every
// acknowledged run is checked. Prints a Markdown section: throughput, latency, status codes,
// lost runs, and the emulator's peak memory (from a child process, so the load generator's own
// memory does not count). The test suite runs the same driver for a few seconds.
import { fmt, importTs, readRss, root, rssFlags, startEmulatorProcess } from './lib.mjs';

const seconds = Number(process.env.ENGRAM_LOAD_SECONDS ?? 30);
const clients = Number(process.env.ENGRAM_LOAD_CLIENTS ?? 200);
const runTime = process.env.ENGRAM_LOAD_RUN_TIME ?? '200ms';
const { runLoad, percentile, memoryOf } = await importTs('../test/helpers/load.ts');

const rssFile = `${root}node_modules/.cache/engram-bench/emulator-load-rss`;
const flags = rssFlags(rssFile);
const emu = await startEmulatorProcess(['--run-time', runTime], { node: flags.args, env: flags.env, stderr: 'inherit' });
const { url } = emu;
const idle = await memoryOf(emu.pid);

// Sample the emulator's memory every second while the load runs (to see whether it levels off).
const samples = [];
const sampler = setInterval(async () => {
  const m = await memoryOf(emu.pid);
  if (m) samples.push(m.current);
}, 1000);
const r = await runLoad({ url, clients, durationMs: seconds * 1000, settleMs: 30_000 });
clearInterval(sampler);
const stats = await (await fetch(`${url}/_emulator/stats`)).json();
await emu.stop();
const peak = readRss(rssFile);

const rate = (xs) => (xs.length ? fmt(xs.reduce((a, b) => a + b, 0) / xs.length) : '?');
const mib = (b) => `${fmt(b / 2 ** 20, 1)} MiB`;
const fivexx = Object.entries(r.statuses).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
const third = Math.max(1, Math.floor(samples.length / 3));
const lines = [
  '## Emulator under load',
  '',
  `${clients} concurrent clients on loopback for ${seconds} s, each adding a memory and polling its run (run time ${runTime}) until it finishes, ` +
    'then every acknowledged run checked. The emulator runs as its own process (`engram emulator`); the load generator is `test/helpers/load.ts`.',
  '',
  '| measure | value |',
  '|---|---|',
  `| requests | ${fmt(r.requests)} (${fmt(r.requests / (r.elapsedMs / 1000))}/s) |`,
  `| adds acknowledged | ${fmt(r.acked)} (${fmt(r.acked / (r.elapsedMs / 1000))}/s) |`,
  `| polls | ${fmt(r.polls)} |`,
  `| latency p50 / p99 / max | ${fmt(percentile(r.latencies, 50), 1)} / ${fmt(percentile(r.latencies, 99), 1)} / ${fmt(percentile(r.latencies, 100), 1)} ms |`,
  `| status codes | ${Object.entries(r.statuses).map(([s, c]) => `${s}: ${fmt(c)}`).join(', ')} |`,
  `| 5xx answers | ${fmt(fivexx)} |`,
  `| requests with no answer | ${fmt(r.networkErrors)} |`,
  `| runs lost (acknowledged, then missing or never finished) | ${fmt(r.lost.length)} |`,
  `| runs completed | ${fmt(r.completed)} of ${fmt(r.acked)} |`,
  `| requests/s, first third → last third of the run | ${rate(r.perSecond.slice(0, Math.floor(r.perSecond.length / 3)))} → ${rate(r.perSecond.slice(-Math.floor(r.perSecond.length / 3)))} |`,
  `| connections (peak open) | ${fmt(stats.connections_peak)} |`,
  `| emulator memory: idle → peak | ${idle ? mib(idle.current) : '?'} → ${mib(peak)} |`,
  `| emulator memory, mean of the first and last third of the run | ${samples.length ? `${mib(samples.slice(0, third).reduce((a, b) => a + b, 0) / third)} → ${mib(samples.slice(-third).reduce((a, b) => a + b, 0) / third)}` : '?'} |`,
  '',
  `Command: \`npm run bench -- emulator-load\` (\`ENGRAM_LOAD_SECONDS\`, \`ENGRAM_LOAD_CLIENTS\`, \`ENGRAM_LOAD_RUN_TIME\` to vary it)`,
];
process.stdout.write(lines.join('\n') + '\n');
process.exitCode = fivexx === 0 && r.lost.length === 0 && r.networkErrors === 0 ? 0 : 1;
