import { mysql } from '@sessionfactory/mysql';
import { Kysely, MysqlDialect } from 'kysely';
import mysql2 from 'mysql2/promise';
import { type BenchDB, createTablesSql, itemId, seedStatements } from '../schema.js';
import { benchSchemaName, type Kit, packageVersion, SQL } from './kit.js';

/** Returns undefined (and says why) when the server is not reachable. */
export async function mysqlKit(url: string): Promise<Kit | undefined> {
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
  const version = String(first?.v ?? '?');
  // A global setting: the bench leaves it alone (1 = fsync at every COMMIT).
  const flush = String(first?.f ?? '?');
  const benchUrl = new URL(url);
  benchUrl.pathname = `/${database}`;

  // mysql2's own pool, 10 connections (its default), promise API.
  const pool = mysql2.createPool({ uri: benchUrl.href, connectionLimit: 10 });
  for (const ddl of createTablesSql('mysql')) await pool.query(ddl);
  for (const { sql, params } of seedStatements('mysql')) await pool.query(sql, params);
  // Kysely's MysqlDialect wants the callback pool; the promise pool wraps one.
  const kysely = new Kysely<BenchDB>({ dialect: new MysqlDialect({ pool: pool.pool }) });

  return {
    dialect: 'mysql',
    version: `MariaDB/MySQL ${version} (mysql2 ${packageVersion('mysql2')}; innodb_flush_log_at_trx_commit=${flush}, server-wide, not changed)`,
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
    async rawSmallTx(id) {
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        await connection.query(SQL.update, [id]);
        await connection.query(SQL.insert, [id, 'bench']);
        await connection.commit();
      } catch (error) {
        await connection.rollback().catch(() => {});
        throw error;
      } finally {
        connection.release();
      }
    },
    kysely,
    adapter: () => mysql(benchUrl.href),
    concurrencyPool: { size: 10, maxOverflow: 0 },
    async close() {
      await pool.end();
      await admin.query(`DROP DATABASE ${database}`);
      await admin.end();
    },
  };
}
