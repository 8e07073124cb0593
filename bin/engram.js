#!/usr/bin/env node
// The engram command: a tiny shim over the bundle in dist/. `--version` is answered here,
// without loading the bundle, because scripts and shells call it often.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version + '\n');
} else {
  const { main } = await import('../dist/engram.js');
  await main(process.argv);
}
