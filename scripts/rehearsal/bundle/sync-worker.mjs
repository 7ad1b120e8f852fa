// The sync worker entry of the bundled application: bundled to dist/sync-worker.js, beside
// dist/app.js, where core looks for its worker entry.
import { runSyncWorker } from '@sessionfactory/core/worker';
import * as mysql from '@sessionfactory/mysql';
import * as pg from '@sessionfactory/pg';

await runSyncWorker({ adapterModules: [pg, mysql] });
