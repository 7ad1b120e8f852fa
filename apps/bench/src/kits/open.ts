import type { Dialect } from '../schema.js';
import type { Kit } from './kit.js';
import { mysqlKit } from './mysql.js';
import { postgresKit } from './postgres.js';
import { sqliteKit } from './sqlite.js';

/** Where the servers are (SQLite needs no address: it makes its own temporary file). */
export interface ServerUrls {
  readonly postgres: string;
  readonly mysql: string;
}

/**
 * Opens the kit of one database: creates its schema/database/file, or, with `attach`, opens the
 * one another process created (a child process measuring one variant). Undefined: the server is
 * not reachable (already said why).
 */
export async function openKit(dialect: string, urls: ServerUrls, attach?: string): Promise<Kit | undefined> {
  switch (dialect as Dialect) {
    case 'sqlite':
      return sqliteKit(attach);
    case 'postgres':
      return postgresKit(urls.postgres, attach);
    case 'mysql':
      return mysqlKit(urls.mysql, attach);
    default:
      throw new Error(`unknown database ${JSON.stringify(dialect)} (use sqlite, postgres, mysql)`);
  }
}
