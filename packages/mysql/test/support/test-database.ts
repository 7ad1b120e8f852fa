import { randomBytes } from 'node:crypto';
import type { DriverConnection } from '@sessionfactory/core/adapter';
import { CompiledQuery, type QueryResult } from 'kysely';
import { mysql } from '../../src/index.js';

/** The server the tests use; override with MYSQL_URL. */
export const SERVER_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** A database of its own for one test file, so parallel runs never collide. */
export interface TestDatabase {
  readonly name: string;
  /** SERVER_URL pointed at this database. */
  readonly url: string;
  /** A connection for setup and for watching from outside (KILL, ...). */
  readonly admin: DriverConnection;
  drop(): Promise<void>;
}

/**
 * Creates `sf_<random>` on the test server; `drop()` removes it and closes the admin connection.
 *
 * @example
 * ```ts
 * const db = await createTestDatabase()
 * afterAll(() => db.drop())
 * ```
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sf_${randomBytes(6).toString('hex')}`;
  const admin = await mysql(SERVER_URL).connect();
  await run(admin, `CREATE DATABASE \`${name}\``);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    admin,
    async drop() {
      await run(admin, `DROP DATABASE IF EXISTS \`${name}\``);
      await admin.close();
    },
  };
}

/**
 * Runs one SQL statement on a driver connection.
 *
 * @example
 * ```ts
 * const { rows } = await run(connection, 'SELECT ? AS x', [1])
 * ```
 */
export function run(connection: DriverConnection, sql: string, parameters: readonly unknown[] = []) {
  return connection.execute(CompiledQuery.raw(sql, [...parameters])) as Promise<QueryResult<Record<string, unknown>>>;
}

/**
 * The error `promise` rejects with (fails the test if it resolves).
 *
 * @example
 * ```ts
 * const error = await rejectionOf(run(connection, 'SELEC 1'))
 * ```
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
