import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { registerBadInputCases } from './cases/bad-input-cases.js';
import { registerCancellationCases } from './cases/cancellation-cases.js';
import { registerCommitRollbackCases } from './cases/commit-rollback-cases.js';
import { registerConcurrencyErrorCases } from './cases/concurrency-error-cases.js';
import { registerConcurrentSessionsCases } from './cases/concurrent-sessions-cases.js';
import { registerConnectionErrorCases } from './cases/connection-error-cases.js';
import { registerConnectionLossCases } from './cases/connection-loss-cases.js';
import { registerConstraintErrorCases } from './cases/constraint-error-cases.js';
import { registerEngineCases } from './cases/engine-cases.js';
import { registerFactoryIsolationCases } from './cases/factory-isolation-cases.js';
import { registerHookCases } from './cases/hook-cases.js';
import { registerIsolationCases } from './cases/isolation-cases.js';
import { registerLeakCases } from './cases/leak-cases.js';
import { registerLeakDetectionCases } from './cases/leak-detection-cases.js';
import { registerLifecycleCases } from './cases/lifecycle-cases.js';
import { registerPoolCases } from './cases/pool-cases.js';
import { registerPreparedQueryCases } from './cases/prepared-query-cases.js';
import { registerPropagationCases } from './cases/propagation-cases.js';
import { registerReadOnlyCases } from './cases/read-only-cases.js';
import { registerRollbackPerTestCases } from './cases/rollback-per-test-cases.js';
import { registerSavepointCases } from './cases/savepoint-cases.js';
import { registerStatementErrorCases } from './cases/statement-error-cases.js';
import { registerSyncScopeCases } from './cases/sync-scope-cases.js';
import { registerTelemetryCases } from './cases/telemetry-cases.js';
import type { ConformanceTarget } from './conformance-target.js';
import { SuiteContext } from './suite/suite-context.js';

const HOOK_TIMEOUT_MS = 60_000;

/** Groups of cases, in the order they run; the leak check stays last. */
const CASE_GROUPS: readonly ((ctx: SuiteContext) => void)[] = [
  registerCommitRollbackCases,
  registerPropagationCases,
  registerSavepointCases,
  registerConcurrentSessionsCases,
  registerIsolationCases,
  registerReadOnlyCases,
  registerConstraintErrorCases,
  registerStatementErrorCases,
  registerConcurrencyErrorCases,
  registerConnectionErrorCases,
  registerBadInputCases,
  registerPoolCases,
  registerConnectionLossCases,
  registerCancellationCases,
  registerHookCases,
  registerSyncScopeCases,
  registerFactoryIsolationCases,
  registerLifecycleCases,
  registerEngineCases,
  registerPreparedQueryCases,
  registerRollbackPerTestCases,
  registerLeakDetectionCases,
  registerTelemetryCases,
  registerLeakCases,
];

/**
 * Registers the sessionfactory conformance suite for one adapter. Call it at the top level
 * of a vitest file; `setup` runs while vitest collects the file (the capabilities decide
 * which cases are skipped, and every skip is printed with its reason), `teardown` after the
 * last case.
 *
 * @example
 * ```ts
 * import { describeConformance } from '@sessionfactory/conformance';
 * import { createSessionFactory } from '@sessionfactory/core';
 * import { sqlite } from '@sessionfactory/sqlite';
 *
 * describeConformance('sqlite :memory:', async () => ({
 *   createFactory: (options) => createSessionFactory(sqlite(':memory:'), options),
 *   teardown: async () => {},
 *   dialect: {},
 * }));
 * ```
 */
export function describeConformance(name: string, setup: () => Promise<ConformanceTarget>): void {
  describe(`sessionfactory conformance: ${name}`, async () => {
    const ctx = await SuiteContext.create(name, await setup());
    beforeAll(() => ctx.prepare(), HOOK_TIMEOUT_MS);
    beforeEach(() => ctx.reset(), HOOK_TIMEOUT_MS);
    afterEach((context) => ctx.finishCase(context.task.name), HOOK_TIMEOUT_MS);
    afterAll(() => ctx.teardown(), HOOK_TIMEOUT_MS);
    for (const registerGroup of CASE_GROUPS) registerGroup(ctx);
  });
}
