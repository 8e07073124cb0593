// Shared helpers for the benchmarks: medians, peak RSS of a child, a bundle of the TypeScript
// sources for in-process (virtual-time) measurements, and an emulator child process.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bin = fileURLToPath(new URL('../bin/engram.cjs', import.meta.url));
const cache = fileURLToPath(new URL('../node_modules/.cache/engram-bench/', import.meta.url));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const fmt = (n, digits = 0) => Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Bundle a TypeScript entry from bench/ and import it (packages resolve from node_modules). */
export async function importTs(entry) {
  mkdirSync(cache, { recursive: true });
  const out = `${cache}${entry.replace(/\W/g, '_')}.mjs`;
  await build({ entryPoints: [fileURLToPath(new URL(entry, import.meta.url))], outfile: out, bundle: true, format: 'esm', platform: 'node', packages: 'external', logLevel: 'warning' });
  return import(pathToFileURL(out).href);
}

const rssHook = `${cache}rss-hook.mjs`;
/** Node flags that make a child write its peak RSS (bytes) to `file` when it exits. */
export function rssFlags(file) {
  mkdirSync(cache, { recursive: true });
  writeFileSync(rssHook, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.ENGRAM_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024)));\n`);
  return { args: ['--import', pathToFileURL(rssHook).href], env: { ENGRAM_BENCH_RSS_FILE: file } };
}

export function readRss(file) {
  const v = Number(readFileSync(file, 'utf8'));
  rmSync(file, { force: true });
  return v;
}

/** Run a child to completion; resolves {code, stdout, stderr, ms}. */
export function run(cmd, args, { env = {}, input, cwd = root } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0, end: performance.now() }));
    child.stdin.end(input ?? '');
  });
}

/** Start `engram emulator` as a child on a free port (`node` flags and `env` for the child); resolves {url, pid, stop()}. */
export async function startEmulatorProcess(args = [], { node = [], env = {}, stderr = 'ignore' } = {}) {
  const child = spawn(process.execPath, [...node, bin, 'emulator', '--port', '0', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', stderr] });
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (l) => resolve(l.trim()));
    child.once('exit', (c) => reject(new Error(`emulator exited ${c}`)));
  });
  return {
    url,
    pid: child.pid,
    stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))),
  };
}
