/**
 * An adapter package's module namespace, as `import * as pg from '@sessionfactory/pg'` gives
 * it: handed to core where core cannot import the package by name (a bundled application).
 */
export type AdapterModule = object;

const provided: AdapterModule[] = [];

/**
 * Makes adapter modules available to this thread's sync worker (see `runSyncWorker`).
 *
 * @example
 * ```ts
 * provideAdapterModules(pg, mysql)
 * ```
 */
export function provideAdapterModules(...modules: readonly AdapterModule[]): void {
  for (const module of modules) if (!provided.includes(module)) provided.push(module);
}

/**
 * The factory function `exportName` of the first module (of `modules`, then of the provided
 * ones) that exports one, or `undefined`.
 *
 * @example
 * ```ts
 * findAdapterExport('postgres', [pg]) // pg.postgres
 * ```
 */
export function findAdapterExport(
  exportName: string,
  modules: readonly AdapterModule[] = [],
): ((...args: unknown[]) => unknown) | undefined {
  for (const module of [...modules, ...provided]) {
    const candidate = (module as Record<string, unknown>)[exportName];
    if (typeof candidate === 'function') return candidate as (...args: unknown[]) => unknown;
  }
  return undefined;
}
