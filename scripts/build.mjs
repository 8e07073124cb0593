// Bundle the CLI and its dependencies into dist/ with esbuild, so the published package has
// nothing to resolve or install at run time:
//   dist/engram.cjs          the CLI: commander, chalk and all our commands, in one CommonJS
//                            file (one file loads faster than a dozen shared chunks, and
//                            CommonJS spares the start-up of Node's ESM loader)
//   dist/ora.js              the spinner, loaded only when a spinner is drawn
//   dist/cli-table3.js       tables, loaded only for a table on a terminal
//   dist/emulator-server.js  the emulator, loaded only by `engram emulator`
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const out = new URL('../dist/', import.meta.url).pathname;

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

/** Heavy modules that the source imports dynamically stay separate files, loaded on demand. */
const LAZY = [
  [/^ora$/, './ora.js'],
  [/^cli-table3$/, './cli-table3.js'],
  [/[\\/]emulator[\\/]server\.js$/, './emulator-server.js'],
];
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    for (const [filter, file] of LAZY) {
      b.onResolve({ filter }, (args) => (args.kind === 'dynamic-import' ? { path: file, external: true } : undefined));
    }
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (commander, cli-table3) require() Node built-ins; everything else is
  // bundled, so a require that serves built-ins is all they need (no node:module at start-up).
  banner: { js: 'const require = (id) => process.getBuiltinModule(id);' },
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { ENGRAM_VERSION: JSON.stringify(pkg.version) },
  plugins: [noChildProcessForCommander],
};

rmSync(out, { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    entryPoints: ['src/index.ts'],
    outfile: `${out}engram.cjs`,
    format: 'cjs',
    banner: {},
    plugins: [noChildProcessForCommander, lazyModules],
  }),
  build({ ...common, stdin: { contents: "export { default } from 'ora';", resolveDir: process.cwd() }, outfile: `${out}ora.js` }),
  build({ ...common, stdin: { contents: "import Table from 'cli-table3'; export default Table;", resolveDir: process.cwd() }, outfile: `${out}cli-table3.js` }),
  build({ ...common, entryPoints: ['src/emulator/server.ts'], outfile: `${out}emulator-server.js` }),
]);
