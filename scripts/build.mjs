// Bundle the CLI into dist/ with esbuild: one small entry that loads commands, ora,
// cli-table3 and the emulator lazily as separate chunks.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { engram: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  chunkNames: '[name]-[hash]',
  define: { ENGRAM_VERSION: JSON.stringify(pkg.version) },
});
