// first: refuses an older Node.js (node:sqlite below needs it) before anything else runs
import '../util/node-guard.js';

export { classifyFakeError, type FakeAdapter, type FakeAdapterOptions, fakeAdapter } from './fake-adapter.js';
export { FakeConnection } from './fake-connection.js';
export { FakeDriverError } from './fake-error.js';
export type { FakeFault } from './fake-faults.js';
export { findSecret } from './find-secret.js';
export { type RollbackEachTest, rollbackEachTest, type WithRollbackOptions, withRollback } from './with-rollback.js';
