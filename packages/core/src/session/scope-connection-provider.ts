import type { ConnectionProvider, DatabaseConnection } from 'kysely';
import type { Scope } from './scope.js';

/**
 * The connection provider of a scope that runs without a transaction: each query still gets
 * a pooled connection from `sf.db`'s provider, but only while the scope is open, so its `tx`
 * throws `SessionClosedError` after the scope ended, like a transactional `tx`.
 */
export class ScopeConnectionProvider implements ConnectionProvider {
  readonly #scope: Scope;
  readonly #inner: ConnectionProvider;

  constructor(scope: Scope, inner: ConnectionProvider) {
    this.#scope = scope;
    this.#inner = inner;
  }

  provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    try {
      this.#scope.assertUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#inner.provideConnection(consumer);
  }
}
