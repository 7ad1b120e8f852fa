import type { Adapter, WorkerSpec } from '../adapter/adapter.js';
import { importPackage } from '../util/import-package.js';

/**
 * Rebuilds an adapter inside the worker: `(await import(spec.module))[spec.exportName](...spec.args)`.
 * `spec.module` is a package name (resolved from core's location) or a `file:` URL.
 */
export async function loadWorkerAdapter(spec: WorkerSpec): Promise<Adapter> {
  const namespace = await importPackage(spec.module);
  const factory = namespace[spec.exportName];
  if (typeof factory !== 'function') {
    throw new TypeError(`${spec.module} has no exported function named ${spec.exportName}`);
  }
  const adapter = (await factory(...spec.args)) as Adapter;
  if (!adapter || typeof adapter.connect !== 'function') {
    throw new TypeError(`${spec.module}#${spec.exportName}(...) did not return an adapter`);
  }
  return adapter;
}
