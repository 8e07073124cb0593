import { readFileSync } from 'node:fs';

declare const ENGRAM_VERSION: string | undefined;

let cached: string | undefined;

/** The package version: inlined by the build, read from package.json when running from src/. */
export function version(): string {
  if (typeof ENGRAM_VERSION === 'string') return ENGRAM_VERSION;
  if (cached === undefined) {
    try {
      cached = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}
