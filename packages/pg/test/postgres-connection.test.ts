import type { Adapter } from '@sessionfactory/core';
import type { DriverConnection } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyPostgresError, postgres } from '../src/index.js';
import { PostgresConnection } from '../src/postgres-connection.js';
import { createTestSchema, TEST_URL, type TestSchema } from './support/test-database.js';

let schema: TestSchema;
let adapter: Adapter;
const opened: DriverConnection[] = [];

beforeAll(async () => {
  schema = await createTestSchema();
  adapter = postgres({ url: TEST_URL, searchPath: schema.name, applicationName: 'sf-pg-test' });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await schema.drop();
});

async function connect(a: Adapter = adapter): Promise<DriverConnection> {
  const connection = await a.connect();
  opened.push(connection);
  return connection;
}

function run(connection: DriverConnection, sql: string, parameters: unknown[] = []) {
  return connection.execute(CompiledQuery.raw(sql, parameters));
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// The server removes an ended backend from pg_stat_activity a moment after the socket closes.
async function waitForRows(sql: string, values: unknown[], expected: unknown[]): Promise<void> {
  const deadline = Date.now() + 2000;
  let rows = await schema.admin(sql, values);
  while (JSON.stringify(rows) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    rows = await schema.admin(sql, values);
  }
  expect(rows).toStrictEqual(expected);
}

describe('connect', () => {
  it('sets search_path and application_name, and reports the backend pid as serverId', async () => {
    const connection = await connect();
    const { rows } = await run(
      connection,
      "SELECT current_schema() AS schema, current_setting('application_name') AS app, pg_backend_pid() AS pid",
    );
    expect(rows).toStrictEqual([{ schema: schema.name, app: 'sf-pg-test', pid: connection.serverId }]);
    expect(typeof connection.serverId).toBe('number');
    expect(connection.broken).toBe(false);
  });

  it('pings and reports the server version', async () => {
    const connection = await connect();
    await expect(connection.ping()).resolves.toBeUndefined();
    const [version] = (await run(connection, "SELECT current_setting('server_version') AS v")).rows as { v: string }[];
    expect(await connection.serverVersion()).toBe(version?.v);
    expect(await connection.serverVersion()).toMatch(/^\d+(\.\d+)?/);
  });

  it('applies statementTimeoutMs on the server, classified STATEMENT_TIMEOUT', async () => {
    const connection = await connect(postgres({ url: TEST_URL, statementTimeoutMs: 50 }));
    const error = await failure(run(connection, 'SELECT pg_sleep(2)'));
    expect(classifyPostgresError(error)?.code).toBe('STATEMENT_TIMEOUT');
  });

  it('fails with DATABASE_NOT_FOUND for a database that does not exist', async () => {
    const error = await failure(postgres({ url: TEST_URL, database: 'sf_no_such_db' }).connect());
    expect(classifyPostgresError(error)).toMatchObject({ code: 'DATABASE_NOT_FOUND', originalCode: '3D000' });
  });

  it('fails with CONNECTION for an unreachable port', async () => {
    const error = await failure(postgres({ url: TEST_URL, host: '127.0.0.1', port: 1 }).connect());
    expect(classifyPostgresError(error)).toMatchObject({ code: 'CONNECTION', connectionLost: true });
  });

  it('closes the client when setting search_path fails half-way through connect', async () => {
    const config = { connectionString: TEST_URL, application_name: `sf-bad-path-${schema.name}` };
    // An empty quoted identifier is a syntax error; the public options refuse it, so go below them.
    const error = await failure(PostgresConnection.open(config, ['']));
    expect(classifyPostgresError(error)?.code).toBe('SQL_SYNTAX');
    await waitForRows(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [config.application_name],
      [{ n: 0 }],
    );
  });
});

describe('execute', () => {
  it('returns rows, and numAffectedRows for writes only', async () => {
    const connection = await connect();
    await run(connection, 'CREATE TABLE items (id int PRIMARY KEY, name text)');
    const inserted = await run(connection, 'INSERT INTO items VALUES ($1, $2), ($3, $4) RETURNING id', [
      1,
      'a',
      2,
      'b',
    ]);
    expect(inserted).toStrictEqual({ rows: [{ id: 1 }, { id: 2 }], numAffectedRows: 2n });
    expect(await run(connection, 'UPDATE items SET name = $1 WHERE id > $2', ['z', 0])).toStrictEqual({
      rows: [],
      numAffectedRows: 2n,
    });
    expect(await run(connection, 'SELECT name FROM items ORDER BY id')).toStrictEqual({
      rows: [{ name: 'z' }, { name: 'z' }],
    });
    expect(await run(connection, 'DELETE FROM items WHERE id = $1', [1])).toStrictEqual({
      rows: [],
      numAffectedRows: 1n,
    });
    const merged = await run(
      connection,
      'MERGE INTO items t USING (VALUES (2), (3)) s(id) ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = $1 WHEN NOT MATCHED THEN INSERT VALUES (s.id, $1)',
      ['m'],
    );
    expect(merged.numAffectedRows).toBe(2n);
  });
});

describe('transaction SQL', () => {
  it('opens a read-only transaction in one statement that rejects writes as READ_ONLY_VIOLATION', async () => {
    const connection = await connect();
    await run(connection, 'CREATE TABLE IF NOT EXISTS ro_target (id int)');
    const statements = adapter.sql.begin({ isolation: 'serializable', readOnly: true });
    expect(statements).toHaveLength(1);
    for (const sql of statements) await run(connection, sql);
    expect(connection.inTransaction?.()).toBe(true);
    const { rows } = await run(
      connection,
      "SELECT current_setting('transaction_isolation') AS isolation, current_setting('transaction_read_only') AS ro",
    );
    expect(rows).toStrictEqual([{ isolation: 'serializable', ro: 'on' }]);
    const error = await failure(run(connection, 'INSERT INTO ro_target VALUES (1)'));
    expect(classifyPostgresError(error)).toMatchObject({ code: 'READ_ONLY_VIOLATION', originalCode: '25006' });
    await run(connection, adapter.sql.rollback);
    expect(connection.inTransaction?.()).toBe(false);
  });

  it('omits the isolation clause when none is asked, leaving the server default', async () => {
    const connection = await connect();
    for (const sql of adapter.sql.begin({ readOnly: false })) await run(connection, sql);
    const { rows } = await run(connection, "SELECT current_setting('transaction_read_only') AS ro");
    expect(rows).toStrictEqual([{ ro: 'off' }]);
    await run(connection, adapter.sql.commit);
  });

  it('runs the savepoint statements core generates', async () => {
    const connection = await connect();
    await run(connection, 'CREATE TABLE sp_target (id int)');
    for (const sql of adapter.sql.begin({ readOnly: false })) await run(connection, sql);
    await run(connection, 'INSERT INTO sp_target VALUES (1)');
    await run(connection, adapter.sql.savepoint('sp_1'));
    await run(connection, 'INSERT INTO sp_target VALUES (2)');
    await run(connection, adapter.sql.rollbackToSavepoint('sp_1'));
    await run(connection, adapter.sql.savepoint('sp_2'));
    await run(connection, 'INSERT INTO sp_target VALUES (3)');
    await run(connection, adapter.sql.releaseSavepoint!('sp_2'));
    await run(connection, adapter.sql.commit);
    expect((await run(connection, 'SELECT id FROM sp_target ORDER BY id')).rows).toStrictEqual([{ id: 1 }, { id: 3 }]);
  });

  it('turns a COMMIT the server answered with ROLLBACK into an UNEXPECTED_ROLLBACK error', async () => {
    const connection = await connect();
    await run(connection, 'BEGIN');
    await failure(run(connection, 'SELECT 1/0'));
    const error = await failure(run(connection, adapter.sql.commit));
    expect(classifyPostgresError(error)).toMatchObject({ code: 'UNEXPECTED_ROLLBACK', originalCode: '25P02' });
    expect(connection.inTransaction?.()).toBe(false);
    await expect(connection.ping()).resolves.toBeUndefined();
  });
});

describe('cancel', () => {
  it('stops a running statement within about a second, classified STATEMENT_TIMEOUT', async () => {
    const connection = await connect();
    const started = Date.now();
    const sleeping = failure(run(connection, 'SELECT pg_sleep(10)'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await adapter.cancel?.(connection);
    const error = await sleeping;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(classifyPostgresError(error)).toMatchObject({ code: 'STATEMENT_TIMEOUT', originalCode: '57014' });
    expect(connection.broken).toBe(false);
    await expect(connection.ping()).resolves.toBeUndefined();
  });
});

describe('a backend killed from outside', () => {
  it('marks an idle connection broken without an unhandled error', async () => {
    const connection = await connect();
    await schema.admin('SELECT pg_terminate_backend($1)', [connection.serverId]);
    await waitFor(() => connection.broken === true, 2000);
    const error = await failure(connection.ping());
    expect(classifyPostgresError(error)).toMatchObject({ code: 'CONNECTION', connectionLost: true });
    await expect(connection.close()).resolves.toBeUndefined();
  });

  it('fails a running statement as CONNECTION and marks the connection broken', async () => {
    const connection = await connect();
    const sleeping = failure(run(connection, 'SELECT pg_sleep(10)'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await schema.admin('SELECT pg_terminate_backend($1)', [connection.serverId]);
    expect(classifyPostgresError(await sleeping)).toMatchObject({ code: 'CONNECTION', connectionLost: true });
    await waitFor(() => connection.broken === true, 2000);
  });
});

describe('close', () => {
  it('ends the backend and can be called again', async () => {
    const connection = await connect();
    const pid = connection.serverId;
    await connection.close();
    await connection.close();
    expect(connection.broken).toBe(true);
    await waitForRows('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid], [{ n: 0 }]);
  });
});
