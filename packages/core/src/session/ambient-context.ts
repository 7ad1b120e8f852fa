import type { Scope } from './scope.js';

/**
 * What the factory's AsyncLocalStorage holds inside a scope: the innermost transactional
 * scope, or `undefined` inside a scope that runs without a transaction (`notSupported`,
 * `never`, `supports` outside a session), so `sf.db` does not join an outer one.
 */
export interface AmbientContext {
  readonly scope: Scope | undefined;
}
