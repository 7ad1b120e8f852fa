import { createServer } from 'node:net';
import { type DriverConnection, toSessionFactoryError } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyMysqlError, mysql } from '../src/index.js';
import { createTestDatabase, rejectionOf, run, SERVER_URL, type TestDatabase } from './support/test-database.js';

let db: TestDatabase;
let adapter: ReturnType<typeof mysql>;
const opened: DriverConnection[] = [];

async function connect(target = adapter): Promise<DriverConnection> {
  const connection = await target.connect();
  opened.push(connection);
  return connection;
}

beforeAll(async () => {
  db = await createTestDatabase();
  adapter = mysql(db.url);
  await run(
    db.admin,
    `CREATE TABLE \`${db.name}\`.account (
      id INT AUTO_INCREMENT PRIMARY KEY,
      email VARCHAR(50) NOT NULL,
      balance INT NOT NULL DEFAULT 0 CHECK (balance >= 0),
      CONSTRAINT uq_account_email UNIQUE (email),
      CONSTRAINT ck_account_email CHECK (email <> 'bad')
    )`,
  );
  await run(
    db.admin,
    `CREATE TABLE \`${db.name}\`.entry (
      id INT PRIMARY KEY,
      account_id INT,
      CONSTRAINT fk_entry_account FOREIGN KEY (account_id) REFERENCES account (id)
    )`,
  );
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  await run(db.admin, `DELETE FROM \`${db.name}\`.entry`);
  await run(db.admin, `DELETE FROM \`${db.name}\`.account`);
});

afterAll(async () => {
  await db?.drop();
});

describe('execute', () => {
  it('returns rows for SELECT, binding ? parameters', async () => {
    const connection = await connect();
    const result = await run(connection, 'SELECT ? AS n, ? AS s', [42, "it's"]);
    expect(result.rows).toStrictEqual([{ n: 42, s: "it's" }]);
    expect(result.numAffectedRows).toBeUndefined();
  });

  it('returns affected rows and insertId for writes', async () => {
    const connection = await connect();
    const insert = await run(connection, 'INSERT INTO account (email) VALUES (?), (?)', ['a@x', 'b@x']);
    expect(insert.rows).toStrictEqual([]);
    expect(insert.numAffectedRows).toBe(2n);
    expect(typeof insert.insertId).toBe('bigint');
    expect(insert.insertId! > 0n).toBe(true);

    const update = await run(connection, 'UPDATE account SET balance = 5 WHERE email = ?', ['a@x']);
    expect(update.numAffectedRows).toBe(1n);
    expect(update.numChangedRows).toBe(1n);
    expect(update.insertId).toBeUndefined();
  });

  it('streams rows in chunks and stays usable after an early break', async () => {
    const connection = await connect();
    const query = CompiledQuery.raw('SELECT seq FROM seq_1_to_10');
    const chunks: unknown[][] = [];
    for await (const chunk of connection.stream!(query, 4)) chunks.push(chunk.rows);
    expect(chunks.map((rows) => rows.length)).toStrictEqual([4, 4, 2]);
    expect(chunks.flat()).toStrictEqual(Array.from({ length: 10 }, (_, i) => ({ seq: i + 1 })));

    for await (const chunk of connection.stream!(CompiledQuery.raw('SELECT seq FROM seq_1_to_100000'), 10)) {
      expect(chunk.rows).toHaveLength(10);
      break;
    }
    expect((await run(connection, 'SELECT 7 AS n')).rows).toStrictEqual([{ n: 7 }]);
    expect(connection.broken).toBe(false);
  });

  it('rejects a failing stream with the driver error', async () => {
    const connection = await connect();
    const error = await rejectionOf(
      (async () => {
        for await (const _ of connection.stream!(CompiledQuery.raw('SELECT * FROM nope'), 10)) {
          // no rows expected
        }
      })(),
    );
    expect(classifyMysqlError(error)?.code).toBe('UNDEFINED_TABLE');
  });
});

describe('connection', () => {
  it('pings, reports its server version and thread id', async () => {
    const connection = await connect();
    await connection.ping();
    expect(await connection.serverVersion()).toMatch(/^\d+\.\d+\.\d+/);
    const { rows } = await run(connection, 'SELECT CONNECTION_ID() AS id');
    expect(connection.serverId).toBe(Number(rows[0]?.id));
    expect(connection.broken).toBe(false);
  });

  it('closes without throwing, also twice', async () => {
    const connection = await adapter.connect();
    await connection.close();
    await connection.close();
    expect(connection.broken).toBe(true);
  });

  it('marks a connection killed from outside as broken, with no unhandled error', async () => {
    const connection = await connect();
    await run(db.admin, `KILL ${connection.serverId}`);
    await expect.poll(() => connection.broken, { timeout: 2000 }).toBe(true);
    const error = await rejectionOf(run(connection, 'SELECT 1'));
    expect(classifyMysqlError(error)).toMatchObject({ code: 'CONNECTION', connectionLost: true });
    await connection.close();
  });

  it('marks a connection killed during a statement as broken', async () => {
    const connection = await connect();
    const sleeping = rejectionOf(run(connection, 'SELECT SLEEP(5)'));
    await waitUntilRunning(connection);
    await run(db.admin, `KILL ${connection.serverId}`);
    expect(classifyMysqlError(await sleeping)).toMatchObject({ code: 'CONNECTION', connectionLost: true });
    expect(connection.broken).toBe(true);
  });
});

describe('transactions', () => {
  it('opens a read-only transaction that rejects writes', async () => {
    const connection = await connect();
    for (const statement of adapter.sql.begin({ readOnly: true })) await run(connection, statement);
    const error = await rejectionOf(run(connection, "INSERT INTO account (email) VALUES ('ro@x')"));
    expect(classifyMysqlError(error)).toMatchObject({ code: 'READ_ONLY_VIOLATION', originalCode: 1792 });
    expect((await run(connection, 'SELECT @@in_transaction AS t')).rows).toStrictEqual([{ t: 1 }]);
    await run(connection, adapter.sql.rollback);
  });

  it('runs the requested isolation level for the next transaction only', async () => {
    await run(db.admin, `INSERT INTO \`${db.name}\`.account (id, email) VALUES (1, 'iso@x')`);
    const reader = await connect();
    const readBalance = async () => (await run(reader, 'SELECT balance FROM account WHERE id = 1')).rows[0]?.balance;

    for (const statement of adapter.sql.begin({ isolation: 'read committed', readOnly: true })) {
      await run(reader, statement);
    }
    expect(await readBalance()).toBe(0);
    await run(db.admin, `UPDATE \`${db.name}\`.account SET balance = 10 WHERE id = 1`);
    expect(await readBalance()).toBe(10); // READ COMMITTED sees the commit
    await run(reader, adapter.sql.commit);

    for (const statement of adapter.sql.begin({ isolation: 'repeatable read', readOnly: true })) {
      await run(reader, statement);
    }
    expect(await readBalance()).toBe(10);
    await run(db.admin, `UPDATE \`${db.name}\`.account SET balance = 20 WHERE id = 1`);
    expect(await readBalance()).toBe(10); // REPEATABLE READ keeps its snapshot
    await run(reader, adapter.sql.commit);

    // SET TRANSACTION touched only those transactions, not the session default.
    expect((await run(reader, 'SELECT @@tx_isolation AS level')).rows).toStrictEqual([{ level: 'REPEATABLE-READ' }]);
  });

  it('rolls back to a savepoint and keeps the outer work', async () => {
    const connection = await connect();
    const { sql } = adapter;
    for (const statement of sql.begin({ readOnly: false })) await run(connection, statement);
    await run(connection, "INSERT INTO account (email) VALUES ('outer@x')");
    await run(connection, sql.savepoint('sp_1'));
    await run(connection, "INSERT INTO account (email) VALUES ('inner@x')");
    await run(connection, sql.rollbackToSavepoint('sp_1'));
    await run(connection, sql.savepoint('sp_2'));
    await run(connection, "INSERT INTO account (email) VALUES ('kept@x')");
    await run(connection, sql.releaseSavepoint!('sp_2'));
    await run(connection, sql.commit);
    const { rows } = await run(db.admin, `SELECT email FROM \`${db.name}\`.account ORDER BY email`);
    expect(rows).toStrictEqual([{ email: 'kept@x' }, { email: 'outer@x' }]);
  });
});

describe('cancel', () => {
  it('stops SELECT SLEEP(10) within about a second; the error says statement timeout', async () => {
    const connection = await connect();
    const started = Date.now();
    const sleeping = rejectionOf(run(connection, 'SELECT SLEEP(10) AS slept'));
    await waitUntilRunning(connection);
    await adapter.cancel!(connection);
    const error = await sleeping;
    expect(Date.now() - started).toBeLessThan(1500);
    // MariaDB 10.11 answers a KILL QUERY'd SLEEP with error 1317 (MySQL 5.x returned 1 as a row).
    expect(classifyMysqlError(error)).toMatchObject({ code: 'STATEMENT_TIMEOUT', originalCode: 1317 });
    expect(connection.broken).toBe(false);
    expect((await run(connection, 'SELECT 1 AS ok')).rows).toStrictEqual([{ ok: 1 }]);
  });

  it('keeps the transaction open after a cancelled statement', async () => {
    const connection = await connect();
    for (const statement of adapter.sql.begin({ readOnly: false })) await run(connection, statement);
    await run(connection, "INSERT INTO account (email) VALUES ('before@x')");
    const sleeping = rejectionOf(run(connection, 'SELECT SLEEP(10)'));
    await waitUntilRunning(connection);
    await adapter.cancel!(connection);
    await sleeping;
    expect((await run(connection, 'SELECT @@in_transaction AS t')).rows).toStrictEqual([{ t: 1 }]);
    await run(connection, adapter.sql.rollback);
    expect((await run(db.admin, `SELECT COUNT(*) AS n FROM \`${db.name}\`.account`)).rows).toStrictEqual([{ n: 0 }]);
  });

  it('does not even connect to send KILL QUERY when the connection runs nothing', async () => {
    const idle = await connect();
    // Cancelling through an adapter whose server is unreachable fails only if it tries to connect.
    const unreachable = mysql({ host: '127.0.0.1', port: await freePort(), user: 'root' });
    await expect(unreachable.cancel!(idle)).resolves.toBeUndefined();
    const busy = rejectionOf(run(idle, 'SELECT SLEEP(10)'));
    await waitUntilRunning(idle);
    expect(classifyMysqlError(await rejectionOf(unreachable.cancel!(idle)))?.code).toBe('CONNECTION');
    await adapter.cancel!(idle);
    await busy;
  });
});

describe('errors from real statements', () => {
  async function errorOf(sql: string) {
    const connection = await connect();
    return classifyMysqlError(await rejectionOf(run(connection, sql)));
  }

  it('classifies a unique violation with its key', async () => {
    await run(db.admin, `INSERT INTO \`${db.name}\`.account (id, email) VALUES (1, 'dup@x')`);
    expect(await errorOf("INSERT INTO account (email) VALUES ('dup@x')")).toMatchObject({
      code: 'UNIQUE_VIOLATION',
      constraint: 'uq_account_email',
    });
    expect(await errorOf("INSERT INTO account (id, email) VALUES (1, 'other@x')")).toMatchObject({
      code: 'UNIQUE_VIOLATION',
      constraint: 'PRIMARY',
    });
  });

  it('classifies foreign key violations with constraint, table and column', async () => {
    const expected = {
      code: 'FOREIGN_KEY_VIOLATION',
      constraint: 'fk_entry_account',
      table: 'entry',
      column: 'account_id',
    };
    expect(await errorOf('INSERT INTO entry (id, account_id) VALUES (1, 99)')).toMatchObject({
      ...expected,
      originalCode: 1452,
    });
    await run(db.admin, `INSERT INTO \`${db.name}\`.account (id, email) VALUES (1, 'p@x')`);
    await run(db.admin, `INSERT INTO \`${db.name}\`.entry (id, account_id) VALUES (1, 1)`);
    expect(await errorOf('DELETE FROM account WHERE id = 1')).toMatchObject({ ...expected, originalCode: 1451 });
  });

  it('classifies not-null violations with the column', async () => {
    expect(await errorOf('INSERT INTO account (email) VALUES (NULL)')).toMatchObject({
      code: 'NOT_NULL_VIOLATION',
      column: 'email',
    });
    expect(await errorOf('INSERT INTO account (balance) VALUES (1)')).toMatchObject({
      code: 'NOT_NULL_VIOLATION',
      column: 'email',
    });
  });

  it('classifies check violations with constraint and table', async () => {
    expect(await errorOf("INSERT INTO account (email) VALUES ('bad')")).toMatchObject({
      code: 'CHECK_VIOLATION',
      originalCode: 4025,
      constraint: 'ck_account_email',
      table: 'account',
    });
    expect(await errorOf("INSERT INTO account (email, balance) VALUES ('neg@x', -1)")).toMatchObject({
      code: 'CHECK_VIOLATION',
      constraint: 'balance',
      table: 'account',
      column: 'balance',
    });
  });

  it('classifies unknown tables, unknown columns and syntax errors', async () => {
    expect(await errorOf('SELECT * FROM nope')).toMatchObject({ code: 'UNDEFINED_TABLE', table: 'nope' });
    expect(await errorOf('SELECT nope FROM account')).toMatchObject({ code: 'UNDEFINED_COLUMN', column: 'nope' });
    expect(await errorOf('SELEC 1')).toMatchObject({ code: 'SQL_SYNTAX', originalCode: 1064 });
  });
});

describe('connect failures', () => {
  it('classifies an unknown database as DATABASE_NOT_FOUND', async () => {
    const url = new URL(SERVER_URL);
    url.pathname = `/${db.name}_missing`;
    const error = await rejectionOf(mysql(url.toString()).connect());
    expect(classifyMysqlError(error)).toMatchObject({ code: 'DATABASE_NOT_FOUND', originalCode: 1049 });
  });

  it('classifies a wrong password as AUTHENTICATION, never showing the password', async () => {
    const user = `${db.name}_u`;
    const password = 'right-Pa55word';
    const wrong = 'wrong-Pa55word';
    await run(db.admin, `CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    try {
      const server = new URL(SERVER_URL);
      const target = { host: server.hostname, port: Number(server.port || 3306), user, database: undefined };
      const good = await mysql({ ...target, password }).connect();
      await good.close();

      const bad = mysql({ ...target, password: wrong });
      expect(bad.description).not.toContain(wrong);
      const error = await rejectionOf(bad.connect());
      expect(classifyMysqlError(error)).toMatchObject({ code: 'AUTHENTICATION', originalCode: 1045 });
      const typed = toSessionFactoryError(error, bad);
      expect(typed.code).toBe('AUTHENTICATION');
      expect(`${typed.message} ${typed.originalMessage}`).not.toContain(wrong);
    } finally {
      await run(db.admin, `DROP USER IF EXISTS '${user}'@'%'`);
    }
  });

  it('classifies an unreachable port as CONNECTION', async () => {
    const port = await freePort();
    const error = await rejectionOf(mysql({ host: '127.0.0.1', port, user: 'root', connectTimeoutMs: 2000 }).connect());
    expect(classifyMysqlError(error)).toMatchObject({
      code: 'CONNECTION',
      connectionLost: true,
      originalCode: 'ECONNREFUSED',
    });
  });
});

// A port nothing listens on: bind one, then let it go.
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

// The statement has reached the server once the processlist shows it (not just sent).
async function waitUntilRunning(connection: DriverConnection): Promise<void> {
  await expect
    .poll(
      async () =>
        (
          await run(db.admin, 'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE ?', [
            connection.serverId,
            'SELECT SLEEP%',
          ])
        ).rows[0]?.n,
      { timeout: 2000, interval: 20 },
    )
    .toBe(1);
}
