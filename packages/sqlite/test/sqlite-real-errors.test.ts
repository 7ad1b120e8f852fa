import { type Adapter, LockTimeoutError, ReadOnlyViolationError, UniqueViolationError } from '@sessionfactory/core';
import { type DriverConnection, toSessionFactoryError } from '@sessionfactory/core/adapter';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqlite } from '../src/index.js';
import { query } from './support/query.js';
import { createTempDirectory } from './support/temp-directory.js';

const dir = createTempDirectory();
const open: DriverConnection[] = [];
let fileCounter = 0;

async function connect(adapter: Adapter): Promise<DriverConnection> {
  const connection = await adapter.connect();
  open.push(connection);
  return connection;
}

async function run(connection: DriverConnection, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await connection.execute(query(statement));
}

async function failure(connection: DriverConnection, sql: string, parameters: unknown[] = []): Promise<unknown> {
  return connection.execute(query(sql, parameters)).then(
    () => {
      throw new Error(`expected ${sql} to fail`);
    },
    (error: unknown) => error,
  );
}

afterEach(async () => {
  for (const connection of open.splice(0)) await connection.close();
});
afterAll(() => dir.remove());

describe('real constraint violations', () => {
  // A fresh in-memory database per case: an adapter opens its ':memory:' database once.
  let adapter = sqlite(':memory:');
  let connection: DriverConnection;

  beforeEach(async () => {
    adapter = sqlite(':memory:');
    connection = await connect(adapter);
    await run(connection, [
      `CREATE TABLE account (
         id INTEGER PRIMARY KEY,
         email TEXT NOT NULL UNIQUE,
         balance INTEGER NOT NULL DEFAULT 0 CONSTRAINT positive_balance CHECK (balance >= 0)
       )`,
      'CREATE TABLE entry (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES account (id))',
      "INSERT INTO account (id, email) VALUES (1, 'a@example.com')",
    ]);
  });

  it('classifies a unique violation with table and column (SQLite names no constraint)', async () => {
    const error = await failure(connection, 'INSERT INTO account (email) VALUES (?)', ['a@example.com']);
    expect(adapter.classifyError(error)).toMatchObject({
      code: 'UNIQUE_VIOLATION',
      table: 'account',
      column: 'email',
      originalCode: 'SQLITE_CONSTRAINT_UNIQUE',
    });
    const typed = toSessionFactoryError(error, adapter);
    expect(typed).toBeInstanceOf(UniqueViolationError);
    expect(typed).toMatchObject({ dialect: 'sqlite', table: 'account', column: 'email' });
  });

  it('classifies a primary key violation as unique', async () => {
    const error = await failure(connection, "INSERT INTO account (id, email) VALUES (1, 'b@example.com')");
    expect(adapter.classifyError(error)).toMatchObject({
      code: 'UNIQUE_VIOLATION',
      table: 'account',
      column: 'id',
      originalCode: 'SQLITE_CONSTRAINT_PRIMARYKEY',
    });
  });

  it('classifies a foreign key violation (foreign keys are on by default)', async () => {
    const error = await failure(connection, 'INSERT INTO entry (account_id) VALUES (99)');
    expect(adapter.classifyError(error)).toMatchObject({
      code: 'FOREIGN_KEY_VIOLATION',
      originalCode: 'SQLITE_CONSTRAINT_FOREIGNKEY',
    });
  });

  it('classifies a not-null violation with table and column', async () => {
    const error = await failure(connection, 'INSERT INTO account (email) VALUES (NULL)');
    expect(adapter.classifyError(error)).toMatchObject({
      code: 'NOT_NULL_VIOLATION',
      table: 'account',
      column: 'email',
    });
  });

  it('classifies a check violation with the constraint name', async () => {
    const error = await failure(connection, "INSERT INTO account (email, balance) VALUES ('c@example.com', -1)");
    expect(adapter.classifyError(error)).toMatchObject({ code: 'CHECK_VIOLATION', constraint: 'positive_balance' });
  });

  it('classifies undefined tables and columns and syntax errors', async () => {
    expect(adapter.classifyError(await failure(connection, 'SELECT * FROM ledger'))).toMatchObject({
      code: 'UNDEFINED_TABLE',
      table: 'ledger',
    });
    expect(adapter.classifyError(await failure(connection, 'SELECT nope FROM account'))).toMatchObject({
      code: 'UNDEFINED_COLUMN',
      column: 'nope',
    });
    expect(adapter.classifyError(await failure(connection, 'SELEC 1'))).toMatchObject({ code: 'SQL_SYNTAX' });
  });
});

describe('read-only sessions', () => {
  it('reject writes with READ_ONLY_VIOLATION and afterEnd restores writes', async () => {
    const adapter = sqlite(dir.file(`read-only-${++fileCounter}.db`));
    const connection = await connect(adapter);
    await run(connection, ['CREATE TABLE t (x)', 'INSERT INTO t VALUES (1)']);
    const session = { readOnly: true, isolation: 'serializable' } as const;

    await run(connection, adapter.sql.begin(session));
    expect((await connection.execute(query('SELECT x FROM t'))).rows).toEqual([{ x: 1 }]);
    const error = await failure(connection, 'INSERT INTO t VALUES (2)');
    expect(adapter.classifyError(error)).toMatchObject({
      code: 'READ_ONLY_VIOLATION',
      originalCode: 'SQLITE_READONLY',
    });
    expect(toSessionFactoryError(error, adapter)).toBeInstanceOf(ReadOnlyViolationError);
    await run(connection, [adapter.sql.rollback, ...(adapter.sql.afterEnd?.(session) ?? [])]);

    await run(connection, adapter.sql.begin({ readOnly: false }));
    await connection.execute(query('INSERT INTO t VALUES (2)'));
    await run(connection, [adapter.sql.commit]);
    expect((await connection.execute(query('SELECT count(*) AS n FROM t'))).rows).toEqual([{ n: 2 }]);
  });

  it('on a connection opened read-only, writes fail with READ_ONLY_VIOLATION', async () => {
    const filename = dir.file(`read-only-file-${++fileCounter}.db`);
    await run(await connect(sqlite(filename)), ['CREATE TABLE t (x)']);
    const adapter = sqlite({ filename, readonly: true });
    const connection = await connect(adapter);
    await run(connection, adapter.sql.begin({ readOnly: false }));
    const error = await failure(connection, 'INSERT INTO t VALUES (1)');
    expect(adapter.classifyError(error)?.code).toBe('READ_ONLY_VIOLATION');
  });
});

describe('lock contention on a file database', () => {
  it('a second writer gets SQLITE_BUSY after its busy timeout, classified LOCK_TIMEOUT', async () => {
    const filename = dir.file(`busy-${++fileCounter}.db`);
    const writerAdapter = sqlite(filename);
    const waiterAdapter = sqlite({ filename, busyTimeoutMs: 50 });
    const writer = await connect(writerAdapter);
    const waiter = await connect(waiterAdapter);
    await run(writer, [
      'CREATE TABLE t (x)',
      ...writerAdapter.sql.begin({ readOnly: false }),
      'INSERT INTO t VALUES (1)',
    ]);

    const started = performance.now();
    const error = await failure(waiter, waiterAdapter.sql.begin({ readOnly: false })[0]!);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    expect(waiterAdapter.classifyError(error)).toMatchObject({ code: 'LOCK_TIMEOUT', originalCode: 'SQLITE_BUSY' });
    const typed = toSessionFactoryError(error, waiterAdapter);
    expect(typed).toBeInstanceOf(LockTimeoutError);
    expect(typed.retryable).toBe(true);

    // WAL: readers are not blocked by the open write transaction and see the last commit.
    expect((await waiter.execute(query('SELECT count(*) AS n FROM t'))).rows).toEqual([{ n: 0 }]);
    await run(writer, [writerAdapter.sql.commit]);
    await run(waiter, ['BEGIN IMMEDIATE', 'INSERT INTO t VALUES (2)', 'COMMIT']);
    expect((await waiter.execute(query('SELECT count(*) AS n FROM t'))).rows).toEqual([{ n: 2 }]);
  });
});
