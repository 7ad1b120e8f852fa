import { mysql } from '@sessionfactory/mysql';
import { Kysely, MysqlDialect } from 'kysely';
import mysql2 from 'mysql2/promise';
import { type BenchDB, createTablesSql, itemId, seedStatements } from '../schema.js';
import { benchSchemaName, type Kit, loadKnex, packageVersion, SQL } from './kit.js';

/**
 * Creates the bench database and opens a kit on it; with `attach` (a database an earlier call
 * created, in another process) it only opens the kit. Returns undefined (and says why) when the
 * server is not reachable.
 */
export async function mysqlKit(url: string, attach?: string): Promise<Kit | undefined> {
  if (attach) return openKit(url, attach, '', async () => {});
  let admin: mysql2.Connection;
  try {
    admin = await mysql2.createConnection({ uri: url, connectTimeout: 2000 });
  } catch (error) {
    console.log(`mysql: skipped (${url} not reachable: ${(error as Error).message})`);
    return undefined;
  }
  const database = benchSchemaName();
  await admin.query(`CREATE DATABASE ${database}`);
  const [versionRows] = await admin.query('SELECT VERSION() AS v, @@innodb_flush_log_at_trx_commit AS f');
  const first = (versionRows as { v: string; f: number }[])[0];
  // A global setting: the bench leaves it alone (1 = fsync at every COMMIT).
  const version = `MariaDB/MySQL ${String(first?.v ?? '?')} (mysql2 ${packageVersion('mysql2')}; innodb_flush_log_at_trx_commit=${String(first?.f ?? '?')}, server-wide, not changed)`;
  const kit = openKit(url, database, version, async () => {
    await admin.query(`DROP DATABASE ${database}`);
    await admin.end();
  });
  for (const ddl of createTablesSql('mysql')) await kit.pool.query(ddl);
  for (const { sql, params } of seedStatements('mysql')) await kit.pool.query(sql, params);
  return kit;
}

function openKit(
  url: string,
  database: string,
  version: string,
  drop: () => Promise<void>,
): Kit & { pool: mysql2.Pool } {
  const benchUrl = new URL(url);
  benchUrl.pathname = `/${database}`;
  // mysql2's own pool, 10 connections (its default), promise API.
  const pool = mysql2.createPool({ uri: benchUrl.href, connectionLimit: 10 });
  // Kysely's MysqlDialect wants the callback pool; the promise pool wraps one.
  const kysely = new Kysely<BenchDB>({ dialect: new MysqlDialect({ pool: pool.pool }) });

  /** Hand-written BEGIN/COMMIT on a connection of the pool, ROLLBACK on error. */
  async function transaction(
    body: (connection: mysql2.PoolConnection) => Promise<void>,
    acquired?: () => void,
  ): Promise<void> {
    const connection = await pool.getConnection();
    acquired?.();
    try {
      await connection.beginTransaction();
      await body(connection);
      await connection.commit();
    } catch (error) {
      await connection.rollback().catch(() => {});
      throw error;
    } finally {
      connection.release();
    }
  }

  return {
    dialect: 'mysql',
    version,
    place: database,
    pool,
    rawName: 'mysql2/promise Pool#query',
    kyselyName: 'Kysely MysqlDialect (same pool)',
    rawSelect: (id) => pool.query(SQL.select, [id]),
    async rawSelectsInTx(n, first) {
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        for (let i = first; i < first + n; i++) await connection.query(SQL.select, [itemId(i)]);
        await connection.commit();
      } finally {
        connection.release();
      }
    },
    rawSmallTx: (id) =>
      transaction(async (connection) => {
        await connection.query(SQL.update, [id]);
        await connection.query(SQL.insert, [id, 'bench']);
      }),
    rawUnit: (id, acquired) =>
      transaction(async (connection) => {
        await connection.query(SQL.select, [id]);
        await connection.query(SQL.update, [id]);
      }, acquired),
    kysely,
    knex: () =>
      loadKnex({
        client: 'mysql2',
        connection: {
          host: benchUrl.hostname,
          port: Number(benchUrl.port || 3306),
          user: decodeURIComponent(benchUrl.username),
          password: decodeURIComponent(benchUrl.password),
          database,
        },
        pool: { min: 0, max: 10 },
      }),
    adapter: () => mysql(benchUrl.href),
    concurrencyPool: { size: 10, maxOverflow: 0 },
    async close() {
      await pool.end();
      await drop();
    },
  };
}
