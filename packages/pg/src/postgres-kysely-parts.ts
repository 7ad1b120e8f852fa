import type { KyselyDialectParts } from '@sessionfactory/core/adapter';
import { PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';

/** Kysely's own Postgres compiler, adapter and introspector: queries compile exactly as with `PostgresDialect`. */
export const postgresKyselyParts: KyselyDialectParts = {
  createAdapter: () => new PostgresAdapter(),
  createQueryCompiler: () => new PostgresQueryCompiler(),
  createIntrospector: (db) => new PostgresIntrospector(db),
};
