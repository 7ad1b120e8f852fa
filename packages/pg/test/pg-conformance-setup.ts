import { randomBytes } from 'node:crypto';
import { CONFORMANCE_SECRET, type ConformanceTarget } from '@sessionfactory/conformance';
import { createSessionFactory } from '@sessionfactory/core';
import pg from 'pg';
import { postgres } from '../src/index.js';

const SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

/**
 * Polls `check` until it returns true (every 25 ms, up to `ms`).
 *
 * @example
 * ```ts
 * await waitUntil(async () => (await countBackends()) === 0);
 * ```
 */
async function waitUntil(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** PgBouncer's admin console: `KILL <db>` then `RESUME <db>`, as a pooler restart does to its clients. */
async function restartPooler(pgbouncerUrl: string): Promise<void> {
  const url = new URL(pgbouncerUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/pgbouncer';
  const console = new pg.Client({ connectionString: url.toString() });
  await console.connect();
  try {
    // The console takes the simple protocol only, and identifiers as bare words.
    await console.query(`KILL ${pg.escapeIdentifier(database)}`);
    await console.query(`RESUME ${pg.escapeIdentifier(database)}`);
  } finally {
    await console.end();
  }
}

/**
 * A conformance target on a fresh schema `sf_conf_<random>` of the test database. Every
 * connection of the run carries the schema name as `application_name`, which is how the
 * admin client finds (and kills) ours and only ours.
 *
 * @example
 * ```ts
 * describeConformance('postgres', postgresConformanceTarget);
 * ```
 */
export function postgresConformanceTarget(): Promise<ConformanceTarget> {
  return conformanceTarget(undefined);
}

/**
 * The same target with every factory connecting through PgBouncer in transaction mode
 * (`pgbouncerUrl`, e.g. `postgres://postgres@127.0.0.1:6432/test`, in front of the same server)
 * with `transactionPooling: true`. The admin client still talks to the server directly: it
 * creates the schema and kills server backends, as an operator would.
 *
 * @example
 * ```ts
 * describeConformance('postgres through pgbouncer', () => pgbouncerConformanceTarget(process.env.PGBOUNCER_URL!));
 * ```
 */
export function pgbouncerConformanceTarget(pgbouncerUrl: string): Promise<ConformanceTarget> {
  return conformanceTarget(pgbouncerUrl);
}

async function conformanceTarget(pgbouncerUrl: string | undefined): Promise<ConformanceTarget> {
  const schema = `sf_conf_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ ...SERVER, application_name: `${schema}_admin` });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const config =
    pgbouncerUrl === undefined
      ? { ...SERVER, searchPath: schema, applicationName: schema }
      : { url: pgbouncerUrl, searchPath: schema, applicationName: schema, transactionPooling: true };

  const ourBackends = async (): Promise<number[]> => {
    const result = await admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [schema],
    );
    return result.rows.map((row) => row.pid);
  };
  const terminateOurs = async (): Promise<void> => {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [schema]);
    await waitUntil(async () => (await ourBackends()).length === 0);
  };

  return {
    createFactory: (options) => createSessionFactory(postgres(config), options),
    async teardown() {
      try {
        await terminateOurs();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
    dialect: {
      sleepSql: (seconds) => `SELECT pg_sleep(${Number(seconds)})`,
      connectionIdSql: 'SELECT pg_backend_pid() AS id',
      async killConnection(id) {
        await admin.query('SELECT pg_terminate_backend($1)', [id]);
        await waitUntil(async () => !(await ourBackends()).includes(id));
      },
      // Behind PgBouncer the restart that reaches clients is the pooler's: KILL drops every client
      // and server connection of the database (ours only use it through the pooler), RESUME reopens it.
      restartServer: pgbouncerUrl === undefined ? terminateOurs : () => restartPooler(pgbouncerUrl),
      async idleInTransactionCount() {
        const result = await admin.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
          [schema],
        );
        return Number(result.rows[0]?.n);
      },
      setLockTimeoutSql: (ms) => `SET lock_timeout = ${Math.ceil(ms)}`,
      setStatementTimeoutSql: (ms) => `SET statement_timeout = ${Math.ceil(ms)}`,
    },
    failingFactories: {
      // Behind PgBouncer: a user its auth file lets in (scripts/pgbouncer.sh) but the server does not know.
      authentication: () =>
        createSessionFactory(
          postgres({
            ...config,
            user: pgbouncerUrl === undefined ? 'sf_conf_no_such_role' : 'sf_pgb_no_such_role',
            password: CONFORMANCE_SECRET,
          }),
        ),
      databaseNotFound: () => createSessionFactory(postgres({ ...config, database: `${schema}_missing_db` })),
      unreachable: () => createSessionFactory(postgres({ ...config, port: 1 })),
      // The local server has no TLS: "The server does not support SSL connections".
      tlsRefused: () => createSessionFactory(postgres({ ...config, password: CONFORMANCE_SECRET, ssl: true })),
    },
  };
}
