import { type DatabaseConnection, type Driver, Kysely } from 'kysely';
import type { KyselyDialectParts } from '../adapter/adapter.js';
import { tuneQueryCompiler } from '../session/tuned-compiler.js';

const MESSAGE =
  'tx.db in a sync session only builds queries: pass them to tx.all(query), tx.get(query) or tx.run(query) instead of calling .execute().';

/** A driver that refuses to run anything: the sync scope executes queries itself. */
class CompileOnlyDriver implements Driver {
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    throw new TypeError(MESSAGE);
  }
  async beginTransaction(): Promise<void> {
    throw new TypeError(MESSAGE);
  }
  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

/**
 * A Kysely that compiles queries for the adapter's dialect and throws a clear error if asked
 * to execute one (the sync scope's `tx.db`).
 */
export function createCompileOnlyKysely<DB>(parts: KyselyDialectParts): Kysely<DB> {
  return new Kysely<DB>({
    dialect: {
      createAdapter: () => parts.createAdapter(),
      createDriver: () => new CompileOnlyDriver(),
      createQueryCompiler: () => tuneQueryCompiler(parts.createQueryCompiler()),
      createIntrospector: (db) => parts.createIntrospector(db),
    },
  });
}
