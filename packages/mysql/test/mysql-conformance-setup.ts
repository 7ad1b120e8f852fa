import { randomBytes } from 'node:crypto';
import { CONFORMANCE_SECRET, type ConformanceTarget } from '@sessionfactory/conformance';
import { createSessionFactory } from '@sessionfactory/core';
import mysql2 from 'mysql2/promise';
import { mysql } from '../src/index.js';

const SERVER = { host: '127.0.0.1', port: 3306, user: 'root' } as const;

/** A user with a password and no grant at all: connecting to any database fails with error 1044. */
const NO_ACCESS_USER = 'sf_conf_no_access';

/**
 * Polls `check` until it returns true (every 25 ms, up to `ms`).
 *
 * @example
 * ```ts
 * await waitUntil(async () => (await ourThreads()).length === 0);
 * ```
 */
async function waitUntil(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A conformance target on a fresh database `sf_conf_<random>`. Every connection of the run
 * has it as its default database, which is how the admin connection finds (and kills) ours.
 *
 * @example
 * ```ts
 * describeConformance('mysql', mysqlConformanceTarget);
 * ```
 */
export async function mysqlConformanceTarget(): Promise<ConformanceTarget> {
  const database = `sf_conf_${randomBytes(4).toString('hex')}`;
  const admin = await mysql2.createConnection({ ...SERVER });
  await admin.query(`CREATE DATABASE ${database}`);
  // Shared by concurrent runs, so created if missing and never dropped; it holds no grant.
  await admin.query(`CREATE USER IF NOT EXISTS '${NO_ACCESS_USER}'@'%' IDENTIFIED BY ?`, [CONFORMANCE_SECRET]);
  await admin.query(`ALTER USER '${NO_ACCESS_USER}'@'%' IDENTIFIED BY ?`, [CONFORMANCE_SECRET]);
  const config = { ...SERVER, database };

  const ourThreads = async (): Promise<number[]> => {
    const [rows] = await admin.query<mysql2.RowDataPacket[]>(
      'SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()',
      [database],
    );
    return rows.map((row) => Number(row.id));
  };
  const kill = async (id: number): Promise<void> => {
    try {
      await admin.query(`KILL ${Number(id)}`);
    } catch (error) {
      if ((error as { errno?: number }).errno !== 1094) throw error; // ER_NO_SUCH_THREAD: already gone
    }
  };
  const killOurs = async (): Promise<void> => {
    for (const id of await ourThreads()) await kill(id);
    await waitUntil(async () => (await ourThreads()).length === 0);
  };

  return {
    createFactory: (options) => createSessionFactory(mysql(config), options),
    async teardown() {
      try {
        await killOurs();
        await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      } finally {
        await admin.end();
      }
    },
    dialect: {
      sleepSql: (seconds) => `SELECT SLEEP(${Number(seconds)})`,
      connectionIdSql: 'SELECT CONNECTION_ID() AS id',
      async killConnection(id) {
        await kill(id);
        await waitUntil(async () => !(await ourThreads()).includes(id));
      },
      restartServer: killOurs,
      async idleInTransactionCount() {
        const [rows] = await admin.query<mysql2.RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM information_schema.innodb_trx t
             JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
            WHERE p.db = ? AND p.command = 'Sleep'`,
          [database],
        );
        return Number(rows[0]?.n);
      },
      // innodb_lock_wait_timeout is in whole seconds.
      setLockTimeoutSql: (ms) => `SET innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(ms / 1000))}`,
      // MariaDB's max_statement_time is in seconds (fractions allowed).
      setStatementTimeoutSql: (ms) => `SET max_statement_time = ${ms / 1000}`,
    },
    failingFactories: {
      authentication: () =>
        createSessionFactory(mysql({ ...config, user: 'sf_conf_no_such_user', password: CONFORMANCE_SECRET })),
      databaseNotFound: () => createSessionFactory(mysql({ ...config, database: `${database}_missing_db` })),
      unreachable: () => createSessionFactory(mysql({ ...config, port: 1 })),
      // The local server has no TLS: mysql2's HANDSHAKE_NO_SSL_SUPPORT.
      tlsRefused: () => createSessionFactory(mysql({ ...config, password: CONFORMANCE_SECRET, ssl: true })),
      // A user without any grant on this run's database: error 1044.
      databaseAccessDenied: () =>
        createSessionFactory(mysql({ ...config, user: NO_ACCESS_USER, password: CONFORMANCE_SECRET })),
    },
  };
}
