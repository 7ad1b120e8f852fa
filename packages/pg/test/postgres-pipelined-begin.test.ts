// BEGIN sent with a session's first statement: the pg shim's prelude (one network write, one
// Sync), what it returns, and what a failure in the prelude or in the query leaves behind.
import { createSessionFactory } from '@sessionfactory/core';
import { type DriverConnection, isPreludeFailure } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgres } from '../src/index.js';
import { createTestSchema, TEST_URL, type TestSchema } from './support/test-database.js';

let schema: TestSchema;
let connection: DriverConnection;

beforeAll(async () => {
  schema = await createTestSchema();
  connection = await postgres({ url: TEST_URL, searchPath: schema.name }).connect();
  await connection.execute(CompiledQuery.raw('CREATE TABLE seen (n int PRIMARY KEY)'));
});

afterAll(async () => {
  await connection?.close();
  await schema.drop();
});

const count = async () =>
  (await connection.execute(CompiledQuery.raw('SELECT count(*)::int AS c FROM seen'))).rows[0] as { c: number };

describe('executeAfter (prelude + query in one round trip)', () => {
  it('runs the prelude, then the query; the result is the query alone and the transaction is open', async () => {
    const result = await connection.executeAfter!(
      ['BEGIN ISOLATION LEVEL REPEATABLE READ'],
      CompiledQuery.raw('INSERT INTO seen VALUES ($1) RETURNING n', [1]),
    );
    expect(result).toEqual({ rows: [{ n: 1 }], numAffectedRows: 1n });
    expect(connection.inTransaction!()).toBe(true);
    const { rows } = await connection.execute(CompiledQuery.raw('SHOW transaction_isolation'));
    expect(rows).toEqual([{ transaction_isolation: 'repeatable read' }]);
    await connection.execute(CompiledQuery.raw('ROLLBACK'));
    expect(await count()).toEqual({ c: 0 });
  });

  it('a failing prelude statement is marked, and the query after it never runs', async () => {
    const error = await connection.executeAfter!(
      ['BEGIN ISOLATION LEVEL SOMETIMES'],
      CompiledQuery.raw('INSERT INTO seen VALUES ($1)', [2]),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: '42601' });
    expect(isPreludeFailure(error)).toBe(true);
    // Postgres skipped everything up to Sync and ended the implicit block: nothing is open.
    expect(connection.inTransaction!()).toBe(false);
    expect(await count()).toEqual({ c: 0 });
  });

  it("a failing query is not the prelude's: the transaction BEGIN opened is left to roll back", async () => {
    const error = await connection.executeAfter!(
      ['BEGIN'],
      CompiledQuery.raw('INSERT INTO seen VALUES ($1::int / 0)', [3]),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: '22012' });
    expect(isPreludeFailure(error)).toBe(false);
    expect(connection.inTransaction!()).toBe(true);
    await connection.execute(CompiledQuery.raw('ROLLBACK'));
  });

  it('a query without parameters goes through the same extended-protocol pipeline', async () => {
    const result = await connection.executeAfter!(['BEGIN'], CompiledQuery.raw('SELECT 41 + 1 AS answer'));
    expect(result.rows).toEqual([{ answer: 42 }]);
    await connection.execute(CompiledQuery.raw('ROLLBACK'));
  });
});

describe('sf.session on Postgres', () => {
  it('a failing first statement is rolled back even when pg reads ReadyForQuery after the error', async () => {
    // pg rejects a query at ErrorResponse and updates its transaction status at the next
    // ReadyForQuery; when the two arrive in separate reads (a loaded machine), the status still
    // said idle and the ROLLBACK was skipped, leaving the connection idle in an aborted transaction.
    const pgConnection = (pg as unknown as { Connection: { prototype: { emit(...args: unknown[]): boolean } } })
      .Connection.prototype;
    const emit = pgConnection.emit;
    const late = vi.spyOn(pgConnection, 'emit').mockImplementation(function (this: unknown, ...args: unknown[]) {
      const [event, message] = args as [string, { status?: string }];
      if (event === 'readyForQuery' && message?.status === 'E') {
        setTimeout(() => emit.apply(this, args), 20);
        return true;
      }
      return emit.apply(this, args);
    });
    const sf = createSessionFactory(
      postgres({ url: TEST_URL, searchPath: schema.name, applicationName: `${schema.name}_late` }),
      {
        pool: { size: 1, maxOverflow: 0 },
      },
    );
    try {
      await sf.session((tx) => tx.executeQuery(CompiledQuery.raw('SELECT 1')));
      const sql: string[] = [];
      sf.on('query', (event) => sql.push(event.sql));
      const error = await sf
        .session((tx) => tx.executeQuery(CompiledQuery.raw('INSERT INTO seen VALUES (1), (1)')))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNIQUE_VIOLATION' });
      expect(sql.at(-1)).toBe('ROLLBACK');
      const left = await schema.admin(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
        [`${schema.name}_late`],
      );
      expect(left).toEqual([{ n: 0 }]);
      // The same (only) connection works in a fresh transaction.
      await sf.session((tx) => tx.executeQuery(CompiledQuery.raw('INSERT INTO seen VALUES (20)')));
    } finally {
      late.mockRestore();
      await sf.close();
    }
    expect(await count()).toEqual({ c: 1 });
    await connection.execute(CompiledQuery.raw('DELETE FROM seen'));
  });

  it('sends BEGIN with its first statement, and nothing for a session that runs none', async () => {
    const sf = createSessionFactory(postgres({ url: TEST_URL, searchPath: schema.name }), {
      pool: { size: 1, maxOverflow: 0 },
    });
    try {
      await sf.session((tx) => tx.executeQuery(CompiledQuery.raw('SELECT 1'))); // the connection proves itself
      const sql: string[] = [];
      sf.on('query', (event) => sql.push(event.sql));
      // Every pg query call is one round trip: BEGIN rides with the SELECT, so 3 calls, not 4.
      const roundTrips = vi.spyOn(pg.Client.prototype, 'query');
      await sf.session(async (tx) => {
        await tx.executeQuery(CompiledQuery.raw("SELECT 'first' AS label"));
        await tx.executeQuery(CompiledQuery.raw('INSERT INTO seen VALUES (10)'));
      });
      expect(roundTrips).toHaveBeenCalledTimes(3);
      roundTrips.mockRestore();
      expect(sql).toEqual(['BEGIN READ WRITE', "SELECT 'first' AS label", 'INSERT INTO seen VALUES (10)', 'COMMIT']);
      sql.length = 0;
      expect(await sf.session(async () => 'nothing ran')).toBe('nothing ran');
      expect(sql).toEqual([]);
      expect(await count()).toEqual({ c: 1 });
    } finally {
      await sf.close();
    }
  });
});
