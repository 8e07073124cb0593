import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temporary file and directory the tests (and the CLI processes they spawn) create goes
 * under one directory, removed when the run ends: TMPDIR is inherited by the workers.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'engram-tests-'));
  chmodSync(root, 0o755); // tests that drop to an unprivileged user must reach their dirs
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
