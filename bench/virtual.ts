// In-process pieces for virtual-time benchmarks (bundled on the fly by bench/lib.mjs).
export { runCli } from '../src/cli/run.js';
export { FakeClock } from '../src/core/fake-clock.js';
export { seededRandom } from '../src/core/clock.js';
export { startEmulator } from '../src/emulator/server.js';
export { testIO } from '../test/helpers/io.js';
