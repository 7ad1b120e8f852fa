import type { Adapter, WorkerSpec } from '../adapter/adapter.js';
import { findAdapterExport } from '../util/adapter-modules.js';
import { importPackage } from '../util/import-package.js';

/**
 * Rebuilds an adapter inside the worker: `(await import(spec.module))[spec.exportName](...spec.args)`.
 * `spec.module` is a package name (resolved from core's location) or a `file:` URL. A module
 * handed over with `runSyncWorker({ adapterModules })` (bundled applications) is used first.
 *
 * @example
 * ```ts
 * const adapter = await loadWorkerAdapter({ module: '@sessionfactory/pg', exportName: 'postgres', args: [url] })
 * ```
 */
export async function loadWorkerAdapter(spec: WorkerSpec): Promise<Adapter> {
  const factory = findAdapterExport(spec.exportName) ?? (await importPackage(spec.module))[spec.exportName];
  if (typeof factory !== 'function') {
    throw new TypeError(`${spec.module} has no exported function named ${spec.exportName}`);
  }
  const adapter = (await factory(...spec.args)) as Adapter;
  if (!adapter || typeof adapter.connect !== 'function') {
    throw new TypeError(`${spec.module}#${spec.exportName}(...) did not return an adapter`);
  }
  return adapter;
}
