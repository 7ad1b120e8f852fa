import type { KyselyDialectParts } from '@sessionfactory/core/adapter';
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';

/**
 * Kysely's own SQLite compiler, adapter and introspector: queries compile exactly as with
 * Kysely's `SqliteDialect`.
 *
 * @example
 * ```ts
 * sqliteKyselyParts.createQueryCompiler() // a SqliteQueryCompiler
 * ```
 */
export const sqliteKyselyParts: KyselyDialectParts = {
  createAdapter: () => new SqliteAdapter(),
  createQueryCompiler: () => new SqliteQueryCompiler(),
  createIntrospector: (db) => new SqliteIntrospector(db),
};
