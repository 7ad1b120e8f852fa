import { type AdapterModule, provideAdapterModules } from '../util/adapter-modules.js';

/**
 * Runs core's sync worker in this worker thread with the given adapter modules, for bundled
 * applications: bundle a file that calls it as `sync-worker.js` next to the application's
 * bundle, where core looks for its worker entry (README: Bundlers). Outside a bundle, core
 * starts its own worker entry and this is not needed.
 *
 * @example
 * ```ts
 * // src/sync-worker.ts, bundled to dist/sync-worker.js beside dist/app.js
 * import { runSyncWorker } from '@sessionfactory/core/worker'
 * import * as pg from '@sessionfactory/pg'
 * await runSyncWorker({ adapterModules: [pg] })
 * ```
 */
export async function runSyncWorker(
  options: { readonly adapterModules?: readonly AdapterModule[] } = {},
): Promise<void> {
  provideAdapterModules(...(options.adapterModules ?? []));
  await import('./sync-worker.js');
}
