import { ConfigurationError } from '../errors/error-classes.js';

/**
 * The oldest Node.js release every sessionfactory package runs on, as found by running the
 * whole test suite on candidate releases: 22.13 crashes in better-sqlite3 and 22.15 lacks
 * `StatementSync#columns()` (node:sqlite), which `@sessionfactory/core/testing` uses.
 * Every package.json says `"engines": { "node": ">=22.16.0" }`.
 */
export const NODE_FLOOR = '22.16.0';

/**
 * Why a Node.js version cannot run sessionfactory, or `undefined` when it can.
 *
 * @example
 * ```ts
 * nodeVersionProblem('22.13.1') // 'Node.js 22.13.1 is older than 22.16.0'
 * nodeVersionProblem('24.1.0')  // undefined
 * ```
 */
export function nodeVersionProblem(version: string, floor: string = NODE_FLOOR): string | undefined {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const need = floor.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (Number.isNaN(a) || a < b) return `Node.js ${version.replace(/^v/, '')} is older than ${floor}`;
    if (a > b) return undefined;
  }
  return undefined;
}

/**
 * Throws `ConfigurationError` naming the Node.js release `packageName` needs when this process
 * runs an older one. Each package calls it from the first module its entry imports, so an old
 * Node fails at import with a clear message instead of crashing later inside a native driver.
 *
 * @example
 * ```ts
 * assertNodeVersion('@sessionfactory/sqlite')
 * // on Node 22.13: ConfigurationError: @sessionfactory/sqlite needs Node.js >= 22.16.0; this is Node.js 22.13.1. ...
 * ```
 */
export function assertNodeVersion(packageName: string, version: string = process.versions.node): void {
  if (nodeVersionProblem(version) === undefined) return;
  throw new ConfigurationError(
    `${packageName} needs Node.js >= ${NODE_FLOOR}; this is Node.js ${version.replace(/^v/, '')}. Upgrade Node.js (older releases crash in the SQLite driver or lack node:sqlite features).`,
  );
}
