import {
  HttpProblem,
  jsonReply,
  noContent,
  publicRoute,
  withSchema,
  type PublicRoute,
  type RequestContext,
} from './http.js';
import { faultSchema, type FaultQueue, type FaultSpec } from './faults.js';
import { runView, type Pipeline } from './pipeline.js';
import { findGroup, type Store } from './store.js';
import { obj, str, validate } from './validate.js';

/**
 * The control surface under /_emulator/ (no auth): script faults, force run statuses, fire
 * buffers, read counters, reset. Documented in docs/emulator.md.
 */

export interface EmulatorStats {
  requests: number;
  connections_total: number;
  connections_open: number;
  connections_peak: number;
  projects: number;
  runs: number;
  memories: number;
}

export interface ControlDeps {
  base: string;
  store: Store;
  pipeline: Pipeline;
  faults: FaultQueue;
  stats(): EmulatorStats;
}

interface RunControl {
  status?: string;
  error?: string;
  release?: boolean;
  /** Append this many generated `created` operations (ids of no memory): a huge run on purpose. */
  synthetic_operations?: number;
}

export const MAX_SYNTHETIC_OPERATIONS = 1_000_000;

const runControlSchema = obj({
  status: str,
  error: str,
  release: { kind: 'boolean' },
  synthetic_operations: { kind: 'integer', minimum: 0, maximum: MAX_SYNTHETIC_OPERATIONS },
});

export function controlRoutes(d: ControlDeps): PublicRoute[] {
  const runOf = (ctx: RequestContext) => {
    const run = d.store.runs.get(ctx.params.run_id!);
    if (!run) throw new HttpProblem(404, `run "${ctx.params.run_id}" not found`);
    return run;
  };
  return [
    publicRoute(
      'POST',
      '/_emulator/faults',
      (ctx) => {
        const spec = validate<FaultSpec>(faultSchema, ctx.body === undefined ? {} : ctx.body);
        return jsonReply(201, { fault_id: d.faults.add(spec).fault_id });
      },
      'optional',
    ),
    publicRoute('GET', '/_emulator/faults', () => jsonReply(200, { faults: d.faults.list() })),
    publicRoute('DELETE', '/_emulator/faults', () => jsonReply(200, { cleared: d.faults.clear() })),

    publicRoute(
      'POST',
      '/_emulator/runs/:run_id',
      (ctx) => {
        const body = validate<RunControl>(runControlSchema, ctx.body);
        const run = runOf(ctx);
        if (body.release === true) {
          if (body.status !== undefined) throw new HttpProblem(400, 'send either "status" or "release", not both');
          d.pipeline.release(run, ctx.now);
        } else if (body.status === undefined) {
          if (body.synthetic_operations === undefined)
            throw new HttpProblem(400, 'send {"status": "<status>"} to force a status, or {"release": true} to resume');
        } else if (body.status === 'completed') {
          d.pipeline.complete(run, ctx.now);
        } else if (body.status === 'failed') {
          d.pipeline.failNow(run, ctx.now, body.error);
        } else {
          d.pipeline.pin(run, body.status, ctx.now);
        }
        if (body.synthetic_operations) d.pipeline.addSynthetic(run, body.synthetic_operations, ctx.now);
        return jsonReply(200, withSchema(d.base, 'Run', runView(d.store.projects.get(run.project), run)));
      },
      'required',
    ),
    publicRoute('DELETE', '/_emulator/runs/:run_id', (ctx) => {
      d.store.forgetRun(runOf(ctx).run_id);
      return noContent;
    }),

    publicRoute(
      'POST',
      '/_emulator/groups/:name/flush',
      (ctx) => {
        const name = ctx.params.name!;
        if (!findGroup(name)) throw new HttpProblem(404, `group "${name}" not found`);
        return jsonReply(200, { group: name, completed_runs: d.pipeline.flush(name, ctx.now) });
      },
      'optional',
    ),

    publicRoute('GET', '/_emulator/stats', () => jsonReply(200, d.stats())),
    publicRoute('POST', '/_emulator/reset', () => {
      d.store.reset();
      d.faults.clear();
      return noContent;
    }),
  ];
}
