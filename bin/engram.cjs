#!/usr/bin/env node
// The engram command: a tiny CommonJS shim over the bundle in dist/. CommonJS, because an
// ES-module entry makes Node start its ESM loader, a measurable part of start-up for a
// command typed hundreds of times a day. `--version` is answered here without the bundle.
'use strict';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(require('../package.json').version + '\n');
} else {
  require('../dist/engram.cjs').main(process.argv);
}
