import { postgres } from '@sessionfactory/pg';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { type BenchDB, createTablesSql, itemId, seedStatements } from '../schema.js';
import { benchSchemaName, type Kit, loadKnex, packageVersion, pgPlaceholders, SQL } from './kit.js';

const SELECT = pgPlaceholders(SQL.select);
const UPDATE = pgPlaceholders(SQL.update);
const INSERT = pgPlaceholders(SQL.insert);

/**
 * `synchronous_commit = off` for this run's connections only (raw, Kysely, Knex and library
 * alike): COMMIT then does not wait for the WAL fsync, whose latency on this disk varies by
 * milliseconds and would drown the library's microseconds. Set BENCH_PG_DURABLE=1 to keep the
 * server's setting.
 */
const SESSION_SETTINGS = process.env.BENCH_PG_DURABLE === '1' ? '' : '-c synchronous_commit=off';

/**
 * Creates the bench schema and opens a kit on it; with `attach` (a schema an earlier call
 * created, in another process) it only opens the kit. Returns undefined (and says why) when the
 * server is not reachable.
 */
export async function postgresKit(url: string, attach?: string): Promise<Kit | undefined> {
  if (attach) return openKit(url, attach, '', async () => {});
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
  const version = `PostgreSQL ${rows[0]?.server_version ?? '?'} (pg ${packageVersion('pg')}; ${SESSION_SETTINGS ? 'synchronous_commit=off for the bench connections' : 'server commit settings'})`;
  const kit = openKit(url, schema, version, async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });
  for (const ddl of createTablesSql('postgres')) await kit.pool.query(ddl);
  for (const { sql, params } of seedStatements('postgres')) await kit.pool.query(sql, params);
  return kit;
}

function openKit(url: string, schema: string, version: string, drop: () => Promise<void>): Kit & { pool: pg.Pool } {
  // Every client of the bench (raw pool, Kysely, Knex, adapter) connects with these settings.
  const options = `-c search_path=${schema} ${SESSION_SETTINGS}`;
  // The driver's own pool, 10 connections (pg.Pool's default), search_path set at startup.
  const pool = new pg.Pool({ connectionString: url, max: 10, options });
  const kysely = new Kysely<BenchDB>({ dialect: new PostgresDialect({ pool }) });

  /** Hand-written BEGIN/COMMIT on a connection of the pool, ROLLBACK on error. */
  async function transaction(body: (client: pg.PoolClient) => Promise<void>, acquired?: () => void): Promise<void> {
    const client = await pool.connect();
    acquired?.();
    try {
      await client.query('BEGIN');
      await body(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  return {
    dialect: 'postgres',
    version,
    place: schema,
    pool,
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
    rawSmallTx: (id) =>
      transaction(async (client) => {
        await client.query(UPDATE, [id]);
        await client.query(INSERT, [id, 'bench']);
      }),
    rawUnit: (id, acquired) =>
      transaction(async (client) => {
        await client.query(SELECT, [id]);
        await client.query(UPDATE, [id]);
      }, acquired),
    kysely,
    knex: () => loadKnex({ client: 'pg', connection: { connectionString: url, options }, pool: { min: 0, max: 10 } }),
    adapter: () =>
      postgres({
        url,
        searchPath: [schema],
        ...(SESSION_SETTINGS ? { driverOptions: { options: SESSION_SETTINGS } } : {}),
      }),
    concurrencyPool: { size: 10, maxOverflow: 0 },
    async close() {
      await pool.end();
      await drop();
    },
  };
}
