// Bundle the CLI and its dependencies into dist/ with esbuild: one small entry that loads
// commands, ora, cli-table3 and the emulator lazily as separate chunks. The published
// package then has no runtime dependencies to resolve or install.
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
  // CommonJS dependencies (cli-table3) call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __engramCreateRequire } from 'node:module'; const require = __engramCreateRequire(import.meta.url);" },
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  chunkNames: '[name]-[hash]',
  define: { ENGRAM_VERSION: JSON.stringify(pkg.version) },
});
