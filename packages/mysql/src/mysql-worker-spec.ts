import type { WorkerSpec } from '@sessionfactory/core';
import type { MysqlConfig } from './config/mysql-config.js';

/**
 * How core's worker thread rebuilds this adapter for `syncSession`: it imports the package
 * and calls `mysql(input)` again. Returns `undefined` when the input cannot cross a thread
 * boundary (functions in `driverOptions`), in which case sync scopes are unavailable.
 *
 * @example
 * ```ts
 * mysqlWorkerSpec('mysql://app@db/shop')
 * // { module: '@sessionfactory/mysql', exportName: 'mysql', args: ['mysql://app@db/shop'] }
 * ```
 */
export function mysqlWorkerSpec(input: string | MysqlConfig): WorkerSpec | undefined {
  try {
    return { module: '@sessionfactory/mysql', exportName: 'mysql', args: [structuredClone(input)] };
  } catch {
    return undefined;
  }
}
