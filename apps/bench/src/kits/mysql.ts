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
  const flush = await relaxCommitFlush(admin, Number(first?.f));
  const version = `MariaDB/MySQL ${String(first?.v ?? '?')} (mysql2 ${packageVersion('mysql2')}; ${flush.describe})`;
  const kit = openKit(url, database, version, async () => {
    await flush.restore();
    await admin.query(`DROP DATABASE ${database}`);
    await admin.end();
  });
  for (const ddl of createTablesSql('mysql')) await kit.pool.query(ddl);
  for (const { sql, params } of seedStatements('mysql')) await kit.pool.query(sql, params);
  return kit;
}

/**
 * `innodb_flush_log_at_trx_commit = 2` for the run: a COMMIT then writes InnoDB's log without
 * waiting for its fsync, as `synchronous_commit=off` does for the Postgres rows. Otherwise every
 * MySQL COMMIT waits for an fsync whose latency on a VM drifts by tens of percent between the
 * variants' windows and decides the C=1 ratios. MariaDB has no per-session form, so this is set
 * server-wide and put back when the run ends, also on SIGINT/SIGTERM (after a SIGKILL, set it back
 * by hand). `BENCH_MYSQL_DURABLE=1`, a user without the privilege, or a server already at 2 leave
 * the server's setting alone.
 */
async function relaxCommitFlush(
  admin: mysql2.Connection,
  original: number,
): Promise<{ describe: string; restore: () => Promise<void> }> {
  const unchanged = (why: string) => ({
    describe: `innodb_flush_log_at_trx_commit=${original}, server-wide, not changed (${why})`,
    restore: async () => {},
  });
  if (process.env.BENCH_MYSQL_DURABLE === '1') return unchanged('BENCH_MYSQL_DURABLE=1');
  if (!Number.isInteger(original) || original === 2) return unchanged('already without fsync per COMMIT');
  try {
    await admin.query('SET GLOBAL innodb_flush_log_at_trx_commit = 2');
  } catch (error) {
    return unchanged(`SET GLOBAL refused: ${(error as Error).message}`);
  }
  let restored: Promise<void> | undefined;
  const restore = () => {
    restored ??= admin
      .query('SET GLOBAL innodb_flush_log_at_trx_commit = ?', [original])
      .then(() => undefined)
      .finally(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      });
    return restored;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`mysql: ${signal}: setting innodb_flush_log_at_trx_commit back to ${original}`);
    void restore()
      .catch((error: unknown) => console.error(`mysql: could not restore it: ${error}`))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    describe: `innodb_flush_log_at_trx_commit=2 for this run, server-wide; the server's ${original} is restored after`,
    restore,
  };
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
