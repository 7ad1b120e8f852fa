import type { KyselyDialectParts } from '@sessionfactory/core/adapter';
import { MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler } from 'kysely';

/**
 * Kysely's own MySQL compiler, adapter and introspector (they fit MariaDB too).
 *
 * @example
 * ```ts
 * const compiler = mysqlKyselyParts.createQueryCompiler()
 * ```
 */
export const mysqlKyselyParts: KyselyDialectParts = {
  createAdapter: () => new MysqlAdapter(),
  createQueryCompiler: () => new MysqlQueryCompiler(),
  createIntrospector: (db) => new MysqlIntrospector(db),
};
