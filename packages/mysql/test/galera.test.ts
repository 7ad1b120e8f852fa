// Against a real three-node MariaDB Galera cluster (scripts/galera-cluster.sh, started by
// .ci/run, which exports GALERA_URLS): certification conflicts retried exactly once per unit,
// a ROLLBACK refused after a brute-force abort, nodes that leave skipped by a host list, and a
// node killed mid-load without losing an acknowledged write.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  ConnectionError,
  createSessionFactory,
  DeadlockError,
  type SessionFactory,
  SessionFactoryError,
} from '@sessionfactory/core';
import type { DriverConnection } from '@sessionfactory/core/adapter';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysql } from '../src/index.js';
import { run } from './support/test-database.js';

const CLUSTER_SCRIPT = fileURLToPath(new URL('../../../scripts/galera-cluster.sh', import.meta.url));
const execFileAsync = promisify(execFile);

// The script's fixed ports when GALERA_URLS is unset (a local run after `galera-cluster.sh start`).
const NODE_URLS = (
  process.env.GALERA_URLS ??
  'mysql://root@127.0.0.1:3311/test mysql://root@127.0.0.1:3312/test mysql://root@127.0.0.1:3313/test'
)
  .split(/\s+/)
  .filter((url) => url !== '');

interface DB {
  counter: { id: number; n: number };
  unit_log: { unit: number };
  ack: { id: number; port: number };
}

const database = `sf_galera_${randomBytes(5).toString('hex')}`;
const nodes = NODE_URLS.map((url) => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return { url: parsed.toString(), host: parsed.hostname, port: Number(parsed.port) };
});
/** A host-list URL over the nodes in the given order. */
const hostListUrl = (order: readonly number[]) =>
  `mysql://root@${order.map((i) => `${nodes[i]!.host}:${nodes[i]!.port}`).join(',')}/${database}`;

const admins: DriverConnection[] = [];
const factories: SessionFactory<DB>[] = [];

function factory(url: string, options?: Parameters<typeof createSessionFactory>[1]): SessionFactory<DB> {
  const sf = createSessionFactory<DB>(mysql(url), options);
  factories.push(sf);
  return sf;
}

async function adminOn(node: number): Promise<DriverConnection> {
  const connection = await mysql(nodes[node]!.url).connect();
  admins.push(connection);
  return connection;
}

async function clusterScript(...args: string[]): Promise<void> {
  await execFileAsync(CLUSTER_SCRIPT, args, { timeout: 180_000 });
}

async function wsrepStatus(admin: DriverConnection): Promise<Record<string, string>> {
  const { rows } = await run(
    admin,
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state', 'wsrep_cluster_size')",
  );
  return Object.fromEntries(rows.map((row) => [String(row.Variable_name).toLowerCase(), String(row.Value)]));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  if (NODE_URLS.length !== 3) {
    throw new Error(`GALERA_URLS must list the three nodes' URLs (space-separated); got ${NODE_URLS.length}`);
  }
  let setup: DriverConnection;
  try {
    setup = await mysql(NODE_URLS[0]!).connect();
  } catch (error) {
    throw new Error(
      `The Galera test cluster is not reachable at ${NODE_URLS[0]} (${(error as Error).message}). Start it with scripts/galera-cluster.sh start (.ci/run does) and export GALERA_URLS="$(scripts/galera-cluster.sh urls)".`,
    );
  }
  admins.push(setup);
  expect(await wsrepStatus(setup)).toMatchObject({ wsrep_ready: 'ON', wsrep_cluster_size: '3' });
  // DDL is replicated to every node (total order isolation).
  await run(setup, `CREATE DATABASE \`${database}\``);
  await run(setup, `CREATE TABLE \`${database}\`.counter (id INT PRIMARY KEY, n INT NOT NULL)`);
  await run(setup, `CREATE TABLE \`${database}\`.unit_log (unit INT PRIMARY KEY)`);
  await run(setup, `CREATE TABLE \`${database}\`.ack (id INT PRIMARY KEY, port INT NOT NULL)`);
}, 60_000);

afterAll(async () => {
  await Promise.all(factories.map((sf) => sf.close({ timeoutMs: 5000 }).catch(() => undefined)));
  const admin = admins[0];
  if (admin) await run(admin, `DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
  await Promise.all(admins.map((connection) => connection.close()));
}, 60_000);

describe('certification conflicts', () => {
  it('concurrent writes to one row from two nodes: with retry, every unit takes effect exactly once and onCommit runs once per unit', async () => {
    const admin = await adminOn(0);
    await run(admin, `INSERT INTO \`${database}\`.counter (id, n) VALUES (1, 0)`);
    const sfs = [factory(nodes[0]!.url, { pool: { size: 4 } }), factory(nodes[1]!.url, { pool: { size: 4 } })];
    const rollbacks: unknown[] = [];
    for (const sf of sfs) sf.on('rollback', (event) => rollbacks.push(event.error));
    const units = 40;
    const commits = new Array<number>(units).fill(0);
    const attempts = new Array<number>(units).fill(0);
    await Promise.all(
      Array.from({ length: units }, (_, unit) =>
        sfs[unit % 2]!.session(
          async (tx) => {
            attempts[unit]! += 1;
            tx.onCommit(() => {
              commits[unit]! += 1;
            });
            await sql`UPDATE counter SET n = n + 1 WHERE id = 1`.execute(tx);
            await tx.insertInto('unit_log').values({ unit }).execute();
            // Held open so that the other node's writes to the row certify first.
            await sleep(15);
          },
          { retry: { attempts: 100, baseDelayMs: 5, maxDelayMs: 50 } },
        ),
      ),
    );
    // Every node agrees: the counter counts each unit once, each unit is logged once.
    for (const node of [0, 1, 2]) {
      const connection = await adminOn(node);
      await run(connection, 'SET SESSION wsrep_sync_wait = 1');
      const { rows } = await run(connection, `SELECT n FROM \`${database}\`.counter WHERE id = 1`);
      expect(rows).toEqual([{ n: units }]);
      const logged = await run(connection, `SELECT unit FROM \`${database}\`.unit_log ORDER BY unit`);
      expect(logged.rows.map((row) => row.unit)).toEqual(Array.from({ length: units }, (_, unit) => unit));
    }
    expect(commits).toEqual(new Array(units).fill(1));
    // Conflicts really happened, were deadlocks (Galera's 1213), and were retried.
    const total = attempts.reduce((sum, n) => sum + n, 0);
    expect(total).toBeGreaterThan(units);
    expect(rollbacks.length).toBe(total - units);
    for (const error of rollbacks) {
      expect(error).toBeInstanceOf(DeadlockError);
      expect((error as DeadlockError).commitOutcomeUnknown).toBe(false);
      // A ROLLBACK refused after the abort counts as rolled back: nothing attached.
      expect((error as DeadlockError).suppressed).toEqual([]);
    }
  }, 120_000);

  it('a COMMIT refused by certification (1213) is a known rollback: retried, the first attempt left nothing', async () => {
    const admin = await adminOn(0);
    await run(admin, `INSERT INTO \`${database}\`.counter (id, n) VALUES (2, 0)`);
    const other = await adminOn(1);
    const sf = factory(nodes[0]!.url);
    const failedCommits: SessionFactoryError[] = [];
    sf.on('query', (event) => {
      if (event.sql === 'COMMIT' && event.error) failedCommits.push(event.error);
    });
    const commits: number[] = [];
    let attempt = 0;
    const result = await sf.session(
      async (tx) => {
        attempt += 1;
        const mine = attempt;
        tx.onCommit(() => void commits.push(mine));
        await sql`UPDATE counter SET n = n + 10 WHERE id = 2`.execute(tx);
        if (mine === 1) {
          // Another node commits a write to the same row while this transaction is open: it
          // certifies first, and this one is aborted.
          await run(other, `UPDATE \`${database}\`.counter SET n = n + 1 WHERE id = 2`);
          await sleep(300);
        }
        return mine;
      },
      { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } },
    );
    expect(result).toBe(2);
    expect(commits).toEqual([2]);
    expect(failedCommits).toHaveLength(1);
    expect(failedCommits[0]).toBeInstanceOf(DeadlockError);
    expect(failedCommits[0]!.originalCode).toBe(1213);
    expect(failedCommits[0]!.commitOutcomeUnknown).toBe(false);
    await run(admin, 'SET SESSION wsrep_sync_wait = 1');
    const { rows } = await run(admin, `SELECT n FROM \`${database}\`.counter WHERE id = 2`);
    expect(rows).toEqual([{ n: 11 }]);
  }, 60_000);

  it('a ROLLBACK refused with 1213 after a brute-force abort counts as rolled back: the error stays, the connection is kept', async () => {
    const admin = await adminOn(0);
    await run(admin, `INSERT INTO \`${database}\`.counter (id, n) VALUES (3, 0)`);
    const other = await adminOn(1);
    const sf = factory(nodes[0]!.url, { pool: { size: 1 } });
    const rollbackQueries: (SessionFactoryError | undefined)[] = [];
    sf.on('query', (event) => {
      if (event.sql === 'ROLLBACK') rollbackQueries.push(event.error);
    });
    const hooks: string[] = [];
    const boom = new Error('application gave up');
    const error = await sf
      .session(async (tx) => {
        tx.onRollback(() => void hooks.push('onRollback'));
        tx.onCommit(() => void hooks.push('onCommit'));
        await sql`UPDATE counter SET n = n + 10 WHERE id = 3`.execute(tx);
        await run(other, `UPDATE \`${database}\`.counter SET n = n + 1 WHERE id = 3`);
        await sleep(300);
        throw boom;
      })
      .catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect((boom as { suppressed?: unknown }).suppressed).toBeUndefined();
    expect(rollbackQueries).toHaveLength(1);
    expect(rollbackQueries[0]).toBeInstanceOf(DeadlockError);
    expect(hooks).toEqual(['onRollback']);
    expect(sf.stats()).toMatchObject({ invalidated: 0, inUse: 0, open: 1 });
    // The kept connection is out of any transaction and works.
    expect(
      await sf.connection(async (db) => (await sql<{ t: number }>`SELECT @@in_transaction AS t`.execute(db)).rows),
    ).toEqual([{ t: 0 }]);
    expect(
      await sf.connection(
        async (db) => (await sql<{ n: number }>`SELECT n FROM counter WHERE id = 3`.execute(db)).rows,
      ),
    ).toEqual([{ n: 1 }]);
  }, 60_000);
});

describe('wsrepSyncWait', () => {
  it('sets wsrep_sync_wait on every connection, also after a reset', async () => {
    const sf = factory(`${nodes[2]!.url}?wsrepSyncWait=1`, { pool: { size: 1 } });
    for (let i = 0; i < 2; i++) {
      const rows = await sf.session(
        async (tx) => (await sql<{ w: number }>`SELECT @@session.wsrep_sync_wait AS w`.execute(tx)).rows,
      );
      expect(rows).toEqual([{ w: 1 }]);
    }
    // A write on node 1 is seen at once by a read on node 3.
    const writer = factory(nodes[0]!.url);
    await writer.session((tx) => tx.insertInto('unit_log').values({ unit: 10_001 }).execute());
    const seen = await sf.session((tx) =>
      tx.selectFrom('unit_log').select('unit').where('unit', '=', 10_001).execute(),
    );
    expect(seen).toEqual([{ unit: 10_001 }]);
  });

  it('is refused when out of range', () => {
    expect(() => mysql({ url: nodes[0]!.url, wsrepSyncWait: 16 })).toThrow(/wsrepSyncWait/);
  });
});

describe('a node that leaves the primary component', () => {
  it('answers 1047, a ConnectionError; a host list skips it and new sessions go to the next node', async () => {
    const isolated = await adminOn(2);
    await run(isolated, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'");
    try {
      await waitFor(
        'node 3 is out of the primary component',
        async () => (await wsrepStatus(isolated)).wsrep_ready === 'OFF',
      );
      const direct = factory(nodes[2]!.url);
      const error = await direct.session((tx) => sql`SELECT 1`.execute(tx)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).originalCode).toBe(1047);

      const listed = factory(hostListUrl([2, 0, 1]));
      const ports = await Promise.all(
        Array.from({ length: 4 }, () =>
          listed.session(async (tx) => (await sql<{ port: number }>`SELECT @@port AS port`.execute(tx)).rows[0]!.port),
        ),
      );
      expect(ports.every((port) => port === nodes[0]!.port)).toBe(true);
    } finally {
      await run(isolated, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'");
      await waitFor('node 3 is synced again', async () => {
        const status = await wsrepStatus(isolated);
        return status.wsrep_ready === 'ON' && status.wsrep_local_state === '4' && status.wsrep_cluster_size === '3';
      });
    }
  }, 120_000);
});

describe('host lists', () => {
  it('skips a host that refuses, and cancels a timed-out statement on the node it runs on', async () => {
    // 127.0.0.1:1 refuses: sessions land on node 1, and KILL QUERY must go there, not to the first host.
    const sf = factory(`mysql://root@127.0.0.1:1,${nodes[0]!.host}:${nodes[0]!.port}/${database}`);
    const port = await sf.session(
      async (tx) => (await sql<{ port: number }>`SELECT @@port AS port`.execute(tx)).rows[0]!.port,
    );
    expect(port).toBe(nodes[0]!.port);
    const started = performance.now();
    const error = await sf
      .session((tx) => sql`SELECT SLEEP(20)`.execute(tx), { timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionFactoryError);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(sf.stats()).toMatchObject({ inUse: 0 });
  }, 30_000);
});

describe('a node killed mid-load', () => {
  it('loses no acknowledged write, and sessions continue on the other nodes', async () => {
    // Node 2 first: the load starts there, then it is killed with kill -9.
    const sf = factory(hostListUrl([1, 0, 2]), { pool: { size: 6 } });
    const acknowledged = new Map<number, number>();
    const failed: SessionFactoryError[] = [];
    let next = 0;
    let killedAt: number | undefined;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const id = next++;
        try {
          const port = await sf.session(
            async (tx) => {
              const { rows } = await sql<{ port: number }>`SELECT @@port AS port`.execute(tx);
              await tx.insertInto('ack').values({ id, port: rows[0]!.port }).execute();
              return rows[0]!.port;
            },
            { retry: { attempts: 20, baseDelayMs: 20, maxDelayMs: 500 } },
          );
          acknowledged.set(id, port);
        } catch (error) {
          // Only a unit whose COMMIT was cut off may fail: its outcome is unknown, never acknowledged.
          expect(error).toBeInstanceOf(SessionFactoryError);
          failed.push(error as SessionFactoryError);
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    try {
      await waitFor(
        'some writes went to node 2',
        async () => [...acknowledged.values()].filter((p) => p === nodes[1]!.port).length >= 30,
      );
      await clusterScript('kill', '2');
      killedAt = next;
      await waitFor(
        'writes continue on the other nodes',
        async () => [...acknowledged.keys()].filter((id) => id > killedAt! + 6).length >= 40,
        90_000,
      );
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    for (const error of failed) expect(error.commitOutcomeUnknown).toBe(true);
    const after = [...acknowledged].filter(([id]) => id >= killedAt! + 6);
    expect(after.length).toBeGreaterThanOrEqual(40);
    expect(after.every(([, port]) => port !== nodes[1]!.port)).toBe(true);
    // Every acknowledged unit is on both surviving nodes.
    for (const node of [0, 2]) {
      const connection = await adminOn(node);
      await run(connection, 'SET SESSION wsrep_sync_wait = 1');
      const { rows } = await run(connection, `SELECT id FROM \`${database}\`.ack`);
      const stored = new Set(rows.map((row) => Number(row.id)));
      const missing = [...acknowledged.keys()].filter((id) => !stored.has(id));
      expect(missing).toEqual([]);
    }
    // The killed node rejoins (state transfer) so the cluster is whole for later runs.
    await clusterScript('restart', '2');
    const rejoined = await adminOn(1);
    await run(rejoined, 'SET SESSION wsrep_sync_wait = 1');
    const { rows } = await run(rejoined, `SELECT COUNT(*) AS n FROM \`${database}\`.ack`);
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(acknowledged.size);
  }, 240_000);
});
