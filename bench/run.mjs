// `npm run bench`: runs every bench/*.bench.mjs in turn (or those named on the command line),
// each printing a Markdown section on stdout, and writes them all to bench/RESULTS.md with the
// machine and date. Figures are medians and ratios against a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const sections = [
  `# Benchmarks\n\nProduced by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ` +
    `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB.\n`,
];
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
    sections.push(`## ${f}\n\nFAILED with exit ${r.status}\n`);
  } else sections.push(r.stdout.trim() + '\n');
}
const out = fileURLToPath(new URL('RESULTS.md', import.meta.url));
writeFileSync(out, sections.join('\n'));
process.stderr.write(`bench: wrote ${out}\n`);
process.exit(failed ? 1 : 0);
