// BEGIN and a session's first statement in one network write (executeAfter). mysql2 itself
// writes a command only after the previous one's reply; these tests watch the bytes through a
// TCP proxy, check that replies still parse (sequence ids, errors, several result sets), and
// that core sends only a plain SELECT this way, since MySQL runs it even after a failed BEGIN.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { createSessionFactory, type SessionFactory } from '@sessionfactory/core';
import { type DriverConnection, isPreludeFailure } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mysql } from '../src/index.js';
import { createTestDatabase, rejectionOf, run, type TestDatabase } from './support/test-database.js';

interface DB {
  item: { id: number; n: number };
}

/** What passed through the proxy, in order: client-to-server bytes and server replies. */
type Traffic = { from: 'client' | 'server'; text: string }[];

let db: TestDatabase;
let proxy: Server;
let proxyUrl: string;
const sockets = new Set<Socket>();
let traffic: Traffic = [];
const opened: DriverConnection[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await run(db.admin, `CREATE TABLE \`${db.name}\`.item (id INT PRIMARY KEY, n INT NOT NULL)`);
  const target = new URL(db.url);
  proxy = createServer((client) => {
    const server = createConnection(Number(target.port || 3306), target.hostname);
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      traffic.push({ from: 'client', text: chunk.toString('latin1') });
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      traffic.push({ from: 'server', text: chunk.toString('latin1') });
      client.write(chunk);
    });
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  const url = new URL(db.url);
  url.host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  proxyUrl = url.toString();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  await run(db.admin, `DELETE FROM \`${db.name}\`.item`);
  vi.restoreAllMocks();
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => proxy?.close(resolve));
  await db?.drop();
});

async function connect(): Promise<DriverConnection> {
  const connection = await mysql(proxyUrl).connect();
  opened.push(connection);
  traffic = [];
  return connection;
}

function executeAfter(connection: DriverConnection, prelude: string[], sql: string, parameters: unknown[] = []) {
  expect(connection.executeAfter).toBeTypeOf('function');
  return connection.executeAfter!(prelude, CompiledQuery.raw(sql, parameters));
}

/** The client's bytes sent before the server's first reply of this exchange. */
function sentBeforeFirstReply(): string {
  const firstReply = traffic.findIndex((entry) => entry.from === 'server');
  return traffic
    .slice(0, firstReply < 0 ? traffic.length : firstReply)
    .map((entry) => entry.text)
    .join('');
}

describe('MysqlDriverConnection.executeAfter', () => {
  it('writes BEGIN and the statement before the server answers BEGIN, and returns the statement rows', async () => {
    const connection = await connect();
    const outOfOrder = vi.spyOn(console, 'error');
    const result = await executeAfter(
      connection,
      ['START TRANSACTION'],
      'SELECT ? AS n, @@in_transaction AS open',
      [7],
    );
    expect(result.rows).toStrictEqual([{ n: 7, open: 1 }]);
    const sent = sentBeforeFirstReply();
    expect(sent).toContain('START TRANSACTION');
    expect(sent).toContain('SELECT 7 AS n');
    expect(outOfOrder).not.toHaveBeenCalled(); // mysql2 logs "got packets out of order" there
    expect((await run(connection, 'SELECT @@in_transaction AS open')).rows).toStrictEqual([{ open: 1 }]);
    await run(connection, 'ROLLBACK');
  });

  it('several prelude statements: each runs, in order, before the statement', async () => {
    const connection = await connect();
    const result = await executeAfter(
      connection,
      ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'START TRANSACTION'],
      'SELECT @@in_transaction AS open',
    );
    expect(result.rows).toStrictEqual([{ open: 1 }]);
    await run(connection, 'ROLLBACK');
    // SET TRANSACTION applies to the next transaction only: it was used up by this one.
    await run(connection, 'START TRANSACTION');
    const { rows } = await run(
      connection,
      "SELECT COUNT(*) AS serializable FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID() AND trx_isolation_level = 'SERIALIZABLE'",
    );
    expect(rows).toStrictEqual([{ serializable: 0 }]);
    await run(connection, 'ROLLBACK');
  });

  it("a failed prelude statement rejects with its own error, marked as the prelude's; the connection stays in step", async () => {
    const connection = await connect();
    const error = await rejectionOf(executeAfter(connection, ['START TRANSACTION BOGUS'], 'SELECT 1 AS one'));
    expect(error).toMatchObject({ code: 'ER_PARSE_ERROR' });
    expect(isPreludeFailure(error)).toBe(true);
    expect(connection.broken).toBe(false);
    // The SELECT's reply was read and dropped: the next statement gets its own rows.
    expect((await run(connection, 'SELECT 2 AS two')).rows).toStrictEqual([{ two: 2 }]);
  });

  it('a failed statement after a good BEGIN rejects with its error, not marked; the transaction stays open', async () => {
    const connection = await connect();
    const error = await rejectionOf(executeAfter(connection, ['START TRANSACTION'], 'SELECT * FROM no_such_table'));
    expect(error).toMatchObject({ code: 'ER_NO_SUCH_TABLE' });
    expect(isPreludeFailure(error)).toBe(false);
    expect((await run(connection, 'SELECT @@in_transaction AS open')).rows).toStrictEqual([{ open: 1 }]);
    await run(connection, 'ROLLBACK');
  });

  it('queues behind a statement still running and ahead of one issued after it', async () => {
    const connection = await connect();
    const [first, carried, after] = await Promise.all([
      run(connection, 'SELECT SLEEP(0.05) AS slept'),
      executeAfter(connection, ['START TRANSACTION'], 'SELECT 2 AS two'),
      run(connection, 'SELECT 3 AS three, @@in_transaction AS open'),
    ]);
    expect(first.rows).toStrictEqual([{ slept: 0 }]);
    expect(carried.rows).toStrictEqual([{ two: 2 }]);
    expect(after.rows).toStrictEqual([{ three: 3, open: 1 }]);
    await run(connection, 'ROLLBACK');
  });

  it("works with mysql2's debug logging on (which asks the running command for its state)", async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const connection = await mysql({ url: proxyUrl, driverOptions: { debug: true } }).connect();
    opened.push(connection);
    const result = await executeAfter(connection, ['START TRANSACTION'], 'SELECT 5 AS five');
    expect(result.rows).toStrictEqual([{ five: 5 }]);
    await run(connection, 'ROLLBACK');
    expect(log).toHaveBeenCalled();
  });

  it('a connection killed while the pipeline waits rejects, and is marked broken', async () => {
    const connection = await connect();
    const pending = rejectionOf(executeAfter(connection, ['START TRANSACTION'], 'SELECT SLEEP(5) AS slept'));
    await vi.waitFor(async () => {
      const { rows } = await run(
        db.admin,
        "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(5)%'",
      );
      expect(rows).toHaveLength(1);
      await run(db.admin, `KILL ${Number(rows[0]!.id)}`);
    });
    const error = await pending;
    expect(error).toBeInstanceOf(Error);
    await vi.waitFor(() => expect(connection.broken).toBe(true));
  });
});

describe('sf.session on MySQL', () => {
  let sf: SessionFactory<DB>;
  beforeAll(() => {
    sf = createSessionFactory<DB>(mysql(proxyUrl), { pool: { size: 1 } });
  });
  afterAll(() => sf?.close());

  it('a session starting with a plain SELECT sends BEGIN with it, and commits', async () => {
    await sf.session((tx) => tx.insertInto('item').values({ id: 1, n: 1 }).execute());
    traffic = [];
    const n = await sf.session(async (tx) => {
      const row = await tx.selectFrom('item').select('n').where('id', '=', 1).executeTakeFirstOrThrow();
      await tx
        .updateTable('item')
        .set({ n: row.n + 1 })
        .where('id', '=', 1)
        .execute();
      return row.n + 1;
    });
    expect(n).toBe(2);
    const sent = sentBeforeFirstReply();
    expect(sent).toMatch(/BEGIN|START TRANSACTION/);
    expect(sent).toContain('select `n` from `item`');
    expect(await sf.db.selectFrom('item').select('n').where('id', '=', 1).executeTakeFirst()).toEqual({ n: 2 });
  });

  it('a session starting with a write waits for the server to answer BEGIN first', async () => {
    traffic = [];
    await sf.session((tx) => tx.insertInto('item').values({ id: 2, n: 1 }).execute());
    const sent = sentBeforeFirstReply();
    expect(sent).toMatch(/BEGIN|START TRANSACTION/);
    expect(sent).not.toContain('insert into');
    expect(await sf.db.selectFrom('item').select('id').where('id', '=', 2).executeTakeFirst()).toEqual({ id: 2 });
  });
});
