import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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
    concurrencyErrors: ['SERIALIZATION_FAILURE', 'DEADLOCK', 'LOCK_TIMEOUT'],
    ...options.capabilities,
  };

  const open = (): DriverConnection => {
    const db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 0; PRAGMA foreign_keys = ON');
    const connection = new FakeConnection(connections.length + 1, db, statements, faults);
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
 * database are mapped by message, enough for core's tests.
 *
 * @example
 * ```ts
 * classifyFakeError(new FakeDriverError('DEADLOCK', 'x'))?.code // 'DEADLOCK'
 * ```
 */
export function classifyFakeError(error: unknown): ErrorClassification | undefined {
  if (error instanceof FakeDriverError) {
    return { code: error.fakeCode, originalCode: error.fakeCode, originalMessage: error.message };
  }
  if (!(error instanceof Error)) return undefined;
  const message = error.message;
  const rules: [RegExp, ErrorClassification['code']][] = [
    [/UNIQUE constraint failed/, 'UNIQUE_VIOLATION'],
    [/FOREIGN KEY constraint failed/, 'FOREIGN_KEY_VIOLATION'],
    [/NOT NULL constraint failed/, 'NOT_NULL_VIOLATION'],
    [/CHECK constraint failed/, 'CHECK_VIOLATION'],
    [/readonly database/, 'READ_ONLY_VIOLATION'],
    [/no such table/, 'UNDEFINED_TABLE'],
    [/no such column/, 'UNDEFINED_COLUMN'],
    [/syntax error|incomplete input/, 'SQL_SYNTAX'],
    [/database is locked|SQLITE_BUSY/, 'LOCK_TIMEOUT'],
  ];
  const code = rules.find(([pattern]) => pattern.test(message))?.[1];
  if (!code) return undefined;
  return { code, originalCode: (error as { code?: string }).code, originalMessage: message };
}
