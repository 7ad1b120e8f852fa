import { ConnectionError, DatabaseNotFoundError } from '@sessionfactory/core';
import type { DriverConnection } from '@sessionfactory/core/adapter';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { sqlite } from '../src/index.js';
import { query } from './support/query.js';
import { createTempDirectory } from './support/temp-directory.js';

const dir = createTempDirectory();
const open: DriverConnection[] = [];

async function connect(...args: Parameters<typeof sqlite>): Promise<DriverConnection> {
  const connection = await sqlite(...args).connect();
  open.push(connection);
  return connection;
}

async function pragma(connection: DriverConnection, name: string): Promise<unknown> {
  const { rows } = await connection.execute(query(`PRAGMA ${name}`));
  return Object.values(rows[0] as object)[0];
}

afterEach(async () => {
  vi.restoreAllMocks();
  for (const connection of open.splice(0)) await connection.close();
});
afterAll(() => dir.remove());

describe('connect: pragmas', () => {
  it('turns on WAL and foreign keys, and leaves SQLite without a (thread-blocking) busy handler', async () => {
    const connection = await connect(dir.file('defaults.db'));
    expect(await pragma(connection, 'journal_mode')).toBe('wal');
    // Lock waits happen in the connection, asynchronously (see sqlite-contention.test.ts).
    expect(await pragma(connection, 'busy_timeout')).toBe(0);
    expect(await pragma(connection, 'foreign_keys')).toBe(1);
  });

  it('applies explicit options and extra pragmas', async () => {
    const connection = await connect({
      filename: dir.file('options.db'),
      wal: false,
      busyTimeoutMs: 123,
      foreignKeys: false,
      pragmas: { cache_size: -1234, recursive_triggers: true },
    });
    expect(await pragma(connection, 'journal_mode')).toBe('delete');
    expect(await pragma(connection, 'busy_timeout')).toBe(0);
    expect(await pragma(connection, 'foreign_keys')).toBe(0);
    expect(await pragma(connection, 'cache_size')).toBe(-1234);
    expect(await pragma(connection, 'recursive_triggers')).toBe(1);
  });

  it('keeps an in-memory database in memory journal mode with foreign keys on', async () => {
    const connection = await connect(':memory:');
    expect(await pragma(connection, 'journal_mode')).toBe('memory');
    expect(await pragma(connection, 'foreign_keys')).toBe(1);
  });

  it('opens the file a sqlite: URL names', async () => {
    const filename = dir.file('from url.db');
    const connection = await connect(`sqlite://${encodeURI(filename)}`);
    await connection.execute(query('CREATE TABLE t (x)'));
    await connection.close();
    const reopened = await connect(filename);
    expect((await reopened.execute(query('SELECT count(*) AS n FROM t'))).rows).toEqual([{ n: 0 }]);
  });

  it('closes the handle when a pragma fails', async () => {
    const close = vi.spyOn(Database.prototype, 'close');
    const adapter = sqlite({ filename: dir.file('bad-pragma.db'), pragmas: { 'nope.cache_size': 1 } });
    await expect(adapter.connect()).rejects.toThrow(/unknown database nope/);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('opens synchronously with connectSync', () => {
    const connection = sqlite(':memory:').connectSync!();
    open.push(connection);
    expect(connection.executeSync!(query('SELECT 41 + 1 AS answer')).rows).toEqual([{ answer: 42 }]);
  });

  it('refuses a second :memory: connection from one adapter (it would be another, empty database)', async () => {
    const adapter = sqlite(':memory:');
    const first = await adapter.connect();
    open.push(first);
    await first.execute(query('CREATE TABLE only_here (x)'));
    await expect(adapter.connect()).rejects.toThrow(/in-memory SQLite database is gone/);
    const other = await sqlite(':memory:').connect();
    open.push(other);
    await expect(other.execute(query('SELECT * FROM only_here'))).rejects.toThrow(/no such table/);
  });
});

describe('connect: open failures', () => {
  it('reports a missing file that had to exist as DatabaseNotFoundError (via the classifier)', async () => {
    const adapter = sqlite({ filename: dir.file('missing.db'), fileMustExist: true });
    const error = await adapter.connect().catch((e: unknown) => e);
    expect(adapter.classifyError(error)?.code).toBe('DATABASE_NOT_FOUND');
  });

  it('reports a read-only open of a missing file as DatabaseNotFoundError (via the classifier)', async () => {
    const adapter = sqlite({ filename: dir.file('missing-ro.db'), readonly: true });
    const error = await adapter.connect().catch((e: unknown) => e);
    expect(adapter.classifyError(error)?.code).toBe('DATABASE_NOT_FOUND');
  });

  it('reports a missing directory as ConnectionError, or DatabaseNotFoundError when the file had to exist', async () => {
    const filename = dir.file('no-such-dir/app.db');
    await expect(sqlite(filename).connect()).rejects.toThrow(ConnectionError);
    await expect(sqlite({ filename, fileMustExist: true }).connect()).rejects.toThrow(DatabaseNotFoundError);
    await expect(sqlite(filename).connect()).rejects.toThrow(/directory does not exist/);
  });

  it('reports a nativeBinding that cannot be loaded as ConfigurationError', async () => {
    const adapter = sqlite({ filename: ':memory:', nativeBinding: dir.file('nope.node') });
    await expect(adapter.connect()).rejects.toMatchObject({ code: 'CONFIGURATION', message: /nativeBinding/ });
  });
});

describe('DriverConnection', () => {
  it('reuses the prepared statement for the same SQL text', async () => {
    const connection = await connect(':memory:');
    const prepare = vi.spyOn(Database.prototype, 'prepare');
    for (const n of [1, 2, 3]) await connection.execute(query('SELECT ? AS n', [n]));
    connection.executeSync!(query('SELECT ? AS n', [4]));
    await connection.execute(query('SELECT ? AS m', [5]));
    expect(prepare.mock.calls.map(([sql]) => sql)).toEqual(['SELECT ? AS n', 'SELECT ? AS m']);
  });

  it('returns rows for readers and counts for writers', async () => {
    const connection = await connect(':memory:');
    await connection.execute(query('CREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT)'));
    const insert = await connection.execute(query('INSERT INTO account (email) VALUES (?), (?)', ['a', 'b']));
    expect(insert).toEqual({ numAffectedRows: 2n, insertId: 2n, rows: [] });
    const update = await connection.execute(query("UPDATE account SET email = email || '!'"));
    expect(update.numAffectedRows).toBe(2n);
    const select = await connection.execute(query('SELECT id, email FROM account ORDER BY id'));
    expect(select).toEqual({
      rows: [
        { id: 1, email: 'a!' },
        { id: 2, email: 'b!' },
      ],
    });
  });

  it('returns the rows of INSERT ... RETURNING', async () => {
    const connection = await connect(':memory:');
    await connection.execute(query('CREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT)'));
    const result = await connection.execute(query('INSERT INTO account (email) VALUES (?) RETURNING id, email', ['x']));
    expect(result.rows).toEqual([{ id: 1, email: 'x' }]);
  });

  it('binds booleans as 1/0 and dates as ISO-8601 text', async () => {
    const connection = await connect(':memory:');
    const when = new Date('2024-02-29T12:34:56.789Z');
    const { rows } = await connection.execute(query('SELECT ? AS yes, ? AS no, ? AS at', [true, false, when]));
    expect(rows).toEqual([{ yes: 1, no: 0, at: '2024-02-29T12:34:56.789Z' }]);
  });

  it('passes bigints, buffers and null through', async () => {
    const connection = await connect(':memory:');
    const { rows } = await connection.execute(
      query('SELECT typeof(?) AS big, ? AS blob, ? AS absent', [2n ** 40n, Buffer.from([1, 2]), null]),
    );
    expect(rows).toEqual([{ big: 'integer', blob: Buffer.from([1, 2]), absent: null }]);
  });

  it('turns a driver error into a rejection, not a synchronous throw', async () => {
    const connection = await connect(':memory:');
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = connection.execute(query('SELECT * FROM nowhere'));
    }).not.toThrow();
    await expect(result).rejects.toMatchObject({ code: 'SQLITE_ERROR', message: 'no such table: nowhere' });
    expect(() => connection.executeSync!(query('SELECT * FROM nowhere'))).toThrow('no such table: nowhere');
  });

  it('streams rows in chunks', async () => {
    const connection = await connect(':memory:');
    const chunks: unknown[][] = [];
    const sql = 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n';
    for await (const chunk of connection.stream!(query(sql), 2)) chunks.push(chunk.rows);
    expect(chunks).toEqual([[{ i: 1 }, { i: 2 }], [{ i: 3 }, { i: 4 }], [{ i: 5 }]]);
  });

  it('frees the connection when a stream is abandoned early', async () => {
    const connection = await connect(':memory:');
    const sql = 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) SELECT i FROM n';
    for await (const chunk of connection.stream!(query(sql), 10)) {
      expect(chunk.rows).toHaveLength(10);
      break;
    }
    expect((await connection.execute(query('SELECT 7 AS x'))).rows).toEqual([{ x: 7 }]);
  });

  it('refuses to stream a statement that returns no rows', async () => {
    const connection = await connect(':memory:');
    const stream = connection.stream!(query('CREATE TABLE t (x)'), 10);
    await expect(stream.next()).rejects.toThrow(/only stream statements that return rows/);
  });

  it('pings and reports the SQLite version', async () => {
    const connection = await connect(':memory:');
    await expect(connection.ping()).resolves.toBeUndefined();
    expect(await connection.serverVersion()).toMatch(/^3\.\d+\.\d+$/);
  });

  it('closes idempotently and is broken afterwards', async () => {
    const connection = await connect(':memory:');
    expect(connection.broken).toBe(false);
    await connection.close();
    await connection.close();
    expect(connection.broken).toBe(true);
    await expect(connection.execute(query('SELECT 1'))).rejects.toThrow(/not open/);
  });

  it("reports the transaction state, including SQLite's own rollback after INSERT OR ROLLBACK", async () => {
    const connection = await connect(':memory:');
    await connection.execute(query('CREATE TABLE t (x UNIQUE)'));
    await connection.execute(query('INSERT INTO t VALUES (1)'));
    expect(connection.inTransaction!()).toBe(false);
    await connection.execute(query('BEGIN IMMEDIATE'));
    await connection.execute(query('INSERT INTO t VALUES (2)'));
    expect(connection.inTransaction!()).toBe(true);
    await expect(connection.execute(query('INSERT OR ROLLBACK INTO t VALUES (1)'))).rejects.toThrow(/UNIQUE/);
    expect(connection.inTransaction!()).toBe(false);
    expect((await connection.execute(query('SELECT x FROM t'))).rows).toEqual([{ x: 1 }]);
  });
});
