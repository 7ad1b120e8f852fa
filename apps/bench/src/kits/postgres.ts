import { postgres } from '@sessionfactory/pg';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { type BenchDB, createTablesSql, itemId, seedStatements } from '../schema.js';
import { benchSchemaName, type Kit, packageVersion, pgPlaceholders, SQL } from './kit.js';

const SELECT = pgPlaceholders(SQL.select);
const UPDATE = pgPlaceholders(SQL.update);
const INSERT = pgPlaceholders(SQL.insert);

/**
 * `synchronous_commit = off` for this run's connections only (raw and library alike): COMMIT
 * then does not wait for the WAL fsync, whose latency on this disk varies by milliseconds
 * and would drown the library's microseconds. Set BENCH_PG_DURABLE=1 to keep the server's setting.
 */
const SESSION_SETTINGS = process.env.BENCH_PG_DURABLE === '1' ? '' : '-c synchronous_commit=off';

/** Returns undefined (and says why) when the server is not reachable. */
export async function postgresKit(url: string): Promise<Kit | undefined> {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch (error) {
    console.log(`postgres: skipped (${url} not reachable: ${(error as Error).message})`);
    return undefined;
  }
  const schema = benchSchemaName();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const { rows } = await admin.query<{ server_version: string }>('SHOW server_version');

  // The driver's own pool, 10 connections (pg.Pool's default), search_path set at startup.
  const pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema} ${SESSION_SETTINGS}` });
  for (const ddl of createTablesSql('postgres')) await pool.query(ddl);
  for (const { sql, params } of seedStatements('postgres')) await pool.query(sql, params);
  const kysely = new Kysely<BenchDB>({ dialect: new PostgresDialect({ pool }) });

  return {
    dialect: 'postgres',
    version: `PostgreSQL ${rows[0]?.server_version ?? '?'} (pg ${packageVersion('pg')}; ${SESSION_SETTINGS ? 'synchronous_commit=off for the bench connections' : 'server commit settings'})`,
    rawName: 'pg.Pool#query',
    kyselyName: 'Kysely PostgresDialect (same pg.Pool)',
    rawSelect: (id) => pool.query(SELECT, [id]),
    async rawSelectsInTx(n, first) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (let i = first; i < first + n; i++) await client.query(SELECT, [itemId(i)]);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
    async rawSmallTx(id) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(UPDATE, [id]);
        await client.query(INSERT, [id, 'bench']);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    kysely,
    adapter: () =>
      postgres({
        url,
        searchPath: [schema],
        ...(SESSION_SETTINGS ? { driverOptions: { options: SESSION_SETTINGS } } : {}),
      }),
    concurrencyPool: { size: 10, maxOverflow: 0 },
    async close() {
      await pool.end();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
