import { timedLoop } from '../harness.js';
import { openKit } from '../kits/open.js';
import { type ChildResult, type ChildSpec, RESULT_MARK, SPEC_ENV, type SpeedSpec } from './protocol.js';
import { queueInChild } from './queue.js';
import { isolatedGroups } from './variants.js';

/**
 * One child process: measures the one variant (or runs the one queue test) its parent names in
 * BENCH_CHILD_SPEC, prints the answer as one line, and exits. Nothing else runs in this process,
 * so no other variant's JIT state, garbage or idle connections are around.
 */
async function speed(spec: SpeedSpec, kit: NonNullable<Awaited<ReturnType<typeof openKit>>>): Promise<ChildResult> {
  const group = isolatedGroups([spec.dialect]).find((g) => g.key === spec.group);
  const variant = group?.variants.find((v) => v.name === spec.variant);
  if (!group || !variant) throw new Error(`no variant ${JSON.stringify(spec.variant)} in group ${spec.group}`);
  const running = await variant.open(kit);
  try {
    const run = await timedLoop(running.op, group.concurrency, spec.windows);
    return {
      ok: true,
      opsPerSec: (run.ops * 1000) / run.ms,
      cpuUsPerOp: run.cpuUsPerOp,
      ops: run.ops,
      warmupOps: run.warmupOps,
      warmupMs: run.warmupMs,
    };
  } finally {
    await running.close();
  }
}

async function main(): Promise<ChildResult> {
  const text = process.env[SPEC_ENV];
  if (!text) throw new Error(`${SPEC_ENV} is not set: this file is started by the bench (src/isolated/spawn.ts)`);
  const spec = JSON.parse(text) as ChildSpec;
  const kit = await openKit(spec.dialect, spec.urls, spec.place);
  if (!kit) throw new Error(`${spec.dialect} is not reachable`);
  try {
    return spec.mode === 'speed' ? await speed(spec, kit) : await queueInChild(kit, spec.variant, spec.sessions);
  } finally {
    await kit.close();
  }
}

let result: ChildResult;
try {
  result = await main();
} catch (error) {
  result = { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}
process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`, () => process.exit(result.ok ? 0 : 1));
