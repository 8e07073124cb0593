import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The installed command (package.json "bin"), which runs the built bundle in dist/. */
export const ENGRAM_BIN: string = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: { engram: string } };
  return fileURLToPath(new URL(`../../${pkg.bin.engram}`, import.meta.url));
})();
