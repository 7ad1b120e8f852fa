// Smoke test of the worker bridge over the real Postgres adapter (127.0.0.1:5432, db `test`).
// Needs the builds of core and pg; skipped when packages/pg/dist/index.js is missing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransactionTimeoutError, UniqueViolationError } from '../dist/index.js';
import { WorkerBridge } from '../dist/sync/worker-bridge.js';

const PG_ENTRY = new URL('../../pg/dist/index.js', import.meta.url);
const TABLE = `worker_bridge_smoke_${process.pid}`;
const CONFIG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', applicationName: TABLE };

// `@sessionfactory/pg` does not resolve from core's own location (core does not depend on
// pg), so the worker loads it by file URL here; see the adapter's `workerSpec.module`.
const spec = { module: PG_ENTRY.href, exportName: 'postgres', args: [CONFIG] };

function q(sql: string, parameters: unknown[] = []): CompiledQuery {
  return CompiledQuery.raw(sql, parameters);
}

describe.skipIf(!existsSync(fileURLToPath(PG_ENTRY)))('WorkerBridge over @sessionfactory/pg', () => {
  let bridge: WorkerBridge;

  /** Runs one statement in autocommit mode on its own slot. */
  function autocommit(sql: string, parameters: unknown[] = []): unknown[] {
    const connection = bridge.acquire();
    try {
      return connection.execute(q(sql, parameters)).rows;
    } finally {
      connection.release();
    }
  }

  beforeAll(async () => {
    bridge = new WorkerBridge(spec, { poolSize: 2, callTimeoutMs: 800 });
    await bridge.start();
    autocommit(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, name text)`);
  });

  afterAll(async () => {
    autocommit(`DROP TABLE IF EXISTS ${TABLE}`);
    await bridge.close();
  });

  it('commits a transaction that another connection then sees', () => {
    const connection = bridge.acquire();
    connection.begin(['BEGIN']);
    connection.execute(q(`INSERT INTO ${TABLE} (id, name) VALUES ($1, $2)`, [1, 'ada']));
    expect(autocommit(`SELECT name FROM ${TABLE}`)).toEqual([]);
    connection.end(['COMMIT']);
    connection.release();
    expect(autocommit(`SELECT name FROM ${TABLE}`)).toEqual([{ name: 'ada' }]);
    expect(bridge.stats().open).toBeGreaterThanOrEqual(1);
  });

  it('carries a unique violation across as UniqueViolationError with its fields', () => {
    const connection = bridge.acquire();
    connection.begin(['BEGIN']);
    let caught: unknown;
    try {
      connection.execute(q(`INSERT INTO ${TABLE} (id, name) VALUES ($1, $2)`, [1, 'again']));
    } catch (error) {
      caught = error;
    }
    connection.end(['ROLLBACK']);
    connection.release();
    expect(caught).toBeInstanceOf(UniqueViolationError);
    expect(caught).toMatchObject({
      code: 'UNIQUE_VIOLATION',
      dialect: 'postgres',
      originalCode: '23505',
      constraint: `${TABLE}_pkey`,
      table: TABLE,
    });
  });

  it('cancels a statement that passes the deadline on the server and rolls back', async () => {
    const connection = bridge.acquire();
    connection.begin(['BEGIN']);
    connection.execute(q(`INSERT INTO ${TABLE} (id, name) VALUES ($1, $2)`, [2, 'lost']));
    const started = performance.now();
    expect(() => connection.execute(q('SELECT pg_sleep(10)'))).toThrow(TransactionTimeoutError);
    expect(performance.now() - started).toBeLessThan(2000);
    connection.end(['ROLLBACK']);
    connection.release();

    // soon (far sooner than the 10 s sleep) none of our backends is busy or idle in transaction:
    // the sleep was cancelled on the server and the transaction rolled back
    const busy = () =>
      autocommit(
        "SELECT state, query FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle' AND pid <> pg_backend_pid()",
        [TABLE],
      );
    const deadline = performance.now() + 3000;
    while (busy().length > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(busy()).toEqual([]);
    expect(autocommit(`SELECT id FROM ${TABLE} ORDER BY id`)).toEqual([{ id: 1 }]);
  });
});
