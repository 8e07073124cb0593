// `npm run bench`: runs every bench/*.bench.mjs in turn (or those named on the command line),
// each printing a Markdown section on stdout, and writes them all to bench/RESULTS.md with the
// machine and date. Figures are medians and ratios against a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const header =
  `# Benchmarks\n\nProduced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ` +
  `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB.\n`;
const out = fileURLToPath(new URL('RESULTS.md', import.meta.url));

// Each bench's section sits between markers, so running a few benches (`npm run bench -- wait`)
// replaces their sections and keeps the others.
const marker = (f) => [`<!-- bench: ${f} -->`, `<!-- /bench: ${f} -->`];
const previous = new Map();
if (existsSync(out)) {
  const text = readFileSync(out, 'utf8');
  for (const m of text.matchAll(/<!-- bench: (\S+) -->\n([\s\S]*?)<!-- \/bench: \1 -->/g)) previous.set(m[1], m[2]);
}
let failed = false;
for (const f of files) {
  process.stderr.write(`bench: ${f}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(new URL(f, import.meta.url))], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    failed = true;
    previous.set(f, `## ${f}\n\nFAILED with exit ${r.status}\n`);
  } else previous.set(f, r.stdout.trim() + '\n');
}
const all = readdirSync(dir).filter((f) => f.endsWith('.bench.mjs')).sort();
const body = all.filter((f) => previous.has(f)).map((f) => `${marker(f)[0]}\n${previous.get(f)}${marker(f)[1]}\n`);
writeFileSync(out, [header, ...body].join('\n'));
process.stderr.write(`bench: wrote ${out}\n`);
process.exit(failed ? 1 : 0);
