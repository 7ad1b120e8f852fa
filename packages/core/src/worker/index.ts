// @sessionfactory/core/worker: the sync worker entry for bundled applications.
// first: refuses an older Node.js before anything else runs
import '../util/node-guard.js';

export { runSyncWorker } from '../sync/run-sync-worker.js';
export type { AdapterModule } from '../util/adapter-modules.js';
