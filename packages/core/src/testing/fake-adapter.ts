import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import type {
  Adapter,
  AdapterCapabilities,
  DriverConnection,
  ErrorClassification,
  IsolationLevel,
} from '../adapter/adapter.js';
import { FakeConnection } from './fake-connection.js';
import { FakeDriverError } from './fake-error.js';
import { type FakeFault, FakeFaults } from './fake-faults.js';

/** Options of `fakeAdapter`. */
export interface FakeAdapterOptions {
  /** Override capabilities (e.g. `{ savepoints: false }` to test refusals). */
  readonly capabilities?: Partial<AdapterCapabilities>;
  /**
   * Connections offer `executeAfter`, so BEGIN travels with a session's first statement;
   * `'runs-query'`: the query runs even when its prelude fails (`preludeFailureRunsQuery`, as MySQL).
   */
  readonly pipelining?: boolean | 'runs-query';
}

/** The fake adapter plus what tests inspect and control. */
export interface FakeAdapter extends Adapter {
  /** Every statement any connection ran, in order. */
  readonly statements: string[];
  /** Connections opened so far (closed ones included). */
  readonly connections: readonly FakeConnection[];
  /** Injects a fault for statements that match. */
  fail(fault: FakeFault): void;
  /** Forgets recorded statements and faults. */
  reset(): void;
  /** Deletes the backing temp database (call after closing the factory). */
  dispose(): void;
}

const ISOLATION: Record<IsolationLevel, IsolationLevel> = {
  'read uncommitted': 'read uncommitted',
  'read committed': 'read committed',
  'repeatable read': 'repeatable read',
  serializable: 'serializable',
};

/**
 * A statement-recording adapter for tests, with no database server: data lives in a temp
 * node:sqlite file shared by its connections, every statement is recorded, and faults
 * (errors, delays, dropped connections) can be injected per statement. Core's own tests
 * assert exact BEGIN/SAVEPOINT/COMMIT sequences with it; adapter authors can use it to
 * test code written against `@sessionfactory/core`.
 *
 * @example
 * ```ts
 * import { createSessionFactory } from '@sessionfactory/core'
 * import { fakeAdapter } from '@sessionfactory/core/testing'
 *
 * const adapter = fakeAdapter()
 * const sf = createSessionFactory(adapter)
 * adapter.fail({ match: 'COMMIT', error: 'SERIALIZATION_FAILURE' })
 * await sf.session(async (tx) => {}, { retry: 2 })
 * adapter.statements // ['BEGIN READ WRITE', 'COMMIT', 'ROLLBACK'?...]
 * ```
 */
export function fakeAdapter(options: FakeAdapterOptions = {}): FakeAdapter {
  const dir = mkdtempSync(join(tmpdir(), 'sf-fake-'));
  const file = join(dir, 'fake.db');
  const statements: string[] = [];
  const connections: FakeConnection[] = [];
  const faults = new FakeFaults();
  const capabilities: AdapterCapabilities = {
    isolation: ISOLATION,
    readOnly: true,
    savepoints: true,
    cancel: true,
    sync: 'native',
    sharedDatabase: true,
    transactionalDdl: true,
    returning: true,
    // One writer at a time and busy_timeout 0: a second writer gets "database is locked" at
    // once, a write on an outdated snapshot SQLITE_BUSY_SNAPSHOT. A single writer never
    // deadlocks (DEADLOCK can only be injected).
    concurrencyErrors: ['SERIALIZATION_FAILURE', 'LOCK_TIMEOUT'],
    ...options.capabilities,
  };

  const open = (): DriverConnection => {
    const db = new (nodeSqlite().DatabaseSync)(file);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 0; PRAGMA foreign_keys = ON');
    const connection = new FakeConnection(connections.length + 1, db, statements, faults, options.pipelining);
    connections.push(connection);
    return connection;
  };

  return {
    dialect: 'fake',
    description: 'fake://user:***@fake/db',
    capabilities,
    statements,
    connections,
    sql: {
      begin: ({ isolation, readOnly }) => [
        `BEGIN${isolation ? ` ISOLATION LEVEL ${isolation.toUpperCase()}` : ''} ${readOnly ? 'READ ONLY' : 'READ WRITE'}`,
      ],
      commit: 'COMMIT',
      rollback: 'ROLLBACK',
      savepoint: (name) => `SAVEPOINT ${name}`,
      releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
      rollbackToSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${name}`,
    },
    kysely: {
      createAdapter: () => new SqliteAdapter(),
      createQueryCompiler: () => new SqliteQueryCompiler(),
      createIntrospector: (db) => new SqliteIntrospector(db),
    },
    connect: async () => {
      const fault = faults.take('CONNECT');
      if (fault?.error) throw new FakeDriverError(fault.error, `fake: injected ${fault.error} on connect`);
      return open();
    },
    connectSync: open,
    cancel: async (connection) => {
      (connection as FakeConnection).cancel();
    },
    classifyError: classifyFakeError,
    fail: (fault) => faults.add(fault),
    reset: () => {
      statements.length = 0;
      faults.clear();
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The fake's classifier: injected faults carry their code; SQLite errors from the backing
 * database are mapped by message, with the table, column or constraint SQLite names
 * (`UNIQUE constraint failed: account.owner`, `CHECK constraint failed: account_balance_ck`).
 *
 * @example
 * ```ts
 * classifyFakeError(new FakeDriverError('DEADLOCK', 'x'))?.code // 'DEADLOCK'
 * classifyFakeError(new Error('NOT NULL constraint failed: account.owner'))
 * // { code: 'NOT_NULL_VIOLATION', table: 'account', column: 'owner', ... }
 * ```
 */
export function classifyFakeError(error: unknown): ErrorClassification | undefined {
  if (error instanceof FakeDriverError) {
    return { code: error.fakeCode, originalCode: error.fakeCode, originalMessage: error.message };
  }
  if (!(error instanceof Error)) return undefined;
  const message = error.message;
  // node:sqlite's extended result code first: SQLITE_BUSY_SNAPSHOT says "database is locked"
  // too, but means the snapshot went stale (another connection committed since it was taken).
  const detail =
    (error as { errcode?: unknown }).errcode === SQLITE_BUSY_SNAPSHOT
      ? ({ code: 'SERIALIZATION_FAILURE' } as const)
      : classifySqliteMessage(message);
  if (!detail) return undefined;
  return { ...detail, originalCode: (error as { code?: string }).code, originalMessage: message };
}

/** SQLite's extended result code for a write on a stale WAL snapshot. */
const SQLITE_BUSY_SNAPSHOT = 517;

type SqliteDetail = Omit<ErrorClassification, 'originalCode' | 'originalMessage'>;

const SQLITE_MESSAGE_RULES: readonly [RegExp, (match: RegExpExecArray) => SqliteDetail][] = [
  // "t.col" names the table and column; several columns ("t.a, t.b") name the table only;
  // SQLite names no constraint here, so none is made up.
  [/UNIQUE constraint failed: (.+)$/, ([, subject]) => ({ code: 'UNIQUE_VIOLATION', ...columnsOf(subject!) })],
  [/UNIQUE constraint failed/, () => ({ code: 'UNIQUE_VIOLATION' })],
  [/FOREIGN KEY constraint failed/, () => ({ code: 'FOREIGN_KEY_VIOLATION' })],
  [/NOT NULL constraint failed: (\S+)/, ([, subject]) => ({ code: 'NOT_NULL_VIOLATION', ...columnsOf(subject!) })],
  [/NOT NULL constraint failed/, () => ({ code: 'NOT_NULL_VIOLATION' })],
  // A named CHECK shows its name; an unnamed one shows its expression, which is no name.
  [
    /CHECK constraint failed: (.+)$/,
    ([, name]) => ({ code: 'CHECK_VIOLATION', constraint: /^\w+$/.test(name!) ? name : undefined }),
  ],
  [/CHECK constraint failed/, () => ({ code: 'CHECK_VIOLATION' })],
  [/readonly database/, () => ({ code: 'READ_ONLY_VIOLATION' })],
  [/no such table: (\S+)/, ([, table]) => ({ code: 'UNDEFINED_TABLE', table })],
  [/table (\S+) has no column named (\S+)/, ([, table, column]) => ({ code: 'UNDEFINED_COLUMN', table, column })],
  [/no such column: (\S+)/, ([, column]) => ({ code: 'UNDEFINED_COLUMN', ...columnsOf(column!) })],
  [/syntax error|incomplete input|unrecognized token/, () => ({ code: 'SQL_SYNTAX' })],
  [/database is locked|SQLITE_BUSY/, () => ({ code: 'LOCK_TIMEOUT' })],
];

function classifySqliteMessage(message: string): SqliteDetail | undefined {
  for (const [pattern, detail] of SQLITE_MESSAGE_RULES) {
    const match = pattern.exec(message);
    if (match) return detail(match);
  }
  return undefined;
}

// "account.owner" -> table and column; "account.a, account.b" -> the table only.
function columnsOf(subject: string): { table?: string; column?: string } {
  const columns = subject.split(', ').map((name) => {
    const dot = name.lastIndexOf('.');
    return dot === -1 ? { column: name } : { table: name.slice(0, dot), column: name.slice(dot + 1) };
  });
  const [first] = columns;
  if (!first) return {};
  return columns.length === 1 ? first : first.table === undefined ? {} : { table: first.table };
}

/**
 * node:sqlite, loaded when the first fake connection opens rather than by a static import: a
 * Node.js without it then fails at import with the version check's message, not a link error.
 */
function nodeSqlite(): typeof import('node:sqlite') {
  return createRequire(import.meta.url)('node:sqlite') as typeof import('node:sqlite');
}
