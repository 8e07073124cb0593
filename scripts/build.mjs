// Bundle the CLI and its dependencies into dist/ with esbuild: one small entry that loads
// commands, ora, cli-table3 and the emulator lazily as separate chunks. The published
// package then has no runtime dependencies to resolve or install.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/**
 * commander loads node:child_process at start-up only to run "executable subcommands", which
 * engram does not use; child_process drags in net and dgram. Give commander an empty one.
 */
const noChildProcessForCommander = {
  name: 'no-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'engram-stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'engram-stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { engram: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (commander, cli-table3) require() Node built-ins; everything else is
  // bundled, so a require that serves built-ins is all they need (no node:module at start-up).
  banner: { js: 'const require = (id) => process.getBuiltinModule(id);' },
  plugins: [noChildProcessForCommander],
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  chunkNames: '[name]-[hash]',
  define: { ENGRAM_VERSION: JSON.stringify(pkg.version) },
});
