import { describe, expect, it } from 'vitest';
import { errorFromJSON, isConnectionLost, redactPassword, toSessionFactoryError } from '../src/adapter/index.js';
import {
  AuthenticationError,
  CheckViolationError,
  ConfigurationError,
  ConnectionError,
  DatabaseError,
  DatabaseNotFoundError,
  DeadlockError,
  ERROR_CLASSES,
  ERROR_CODES,
  ExclusionViolationError,
  FactoryClosedError,
  ForeignKeyViolationError,
  LockTimeoutError,
  NotNullViolationError,
  PoolTimeoutError,
  PropagationError,
  ReadOnlyViolationError,
  SerializationFailureError,
  SessionClosedError,
  SessionFactoryError,
  SqlSyntaxError,
  StatementTimeoutError,
  TransactionTimeoutError,
  UndefinedColumnError,
  UndefinedTableError,
  UnexpectedRollbackError,
  UniqueViolationError,
  UnsupportedFeatureError,
} from '../src/index.js';
import { classifyFakeError, FakeDriverError, fakeAdapter } from '../src/testing/index.js';
import { harness, rejection, thrown } from './support/harness.js';

const EXPECTED = {
  CONFIGURATION: ConfigurationError,
  POOL_TIMEOUT: PoolTimeoutError,
  FACTORY_CLOSED: FactoryClosedError,
  SESSION_CLOSED: SessionClosedError,
  CONNECTION: ConnectionError,
  AUTHENTICATION: AuthenticationError,
  DATABASE_NOT_FOUND: DatabaseNotFoundError,
  UNIQUE_VIOLATION: UniqueViolationError,
  FOREIGN_KEY_VIOLATION: ForeignKeyViolationError,
  NOT_NULL_VIOLATION: NotNullViolationError,
  CHECK_VIOLATION: CheckViolationError,
  EXCLUSION_VIOLATION: ExclusionViolationError,
  SERIALIZATION_FAILURE: SerializationFailureError,
  DEADLOCK: DeadlockError,
  LOCK_TIMEOUT: LockTimeoutError,
  STATEMENT_TIMEOUT: StatementTimeoutError,
  TRANSACTION_TIMEOUT: TransactionTimeoutError,
  READ_ONLY_VIOLATION: ReadOnlyViolationError,
  UNDEFINED_TABLE: UndefinedTableError,
  UNDEFINED_COLUMN: UndefinedColumnError,
  SQL_SYNTAX: SqlSyntaxError,
  PROPAGATION: PropagationError,
  UNEXPECTED_ROLLBACK: UnexpectedRollbackError,
  UNSUPPORTED_FEATURE: UnsupportedFeatureError,
  DATABASE: DatabaseError,
} as const;

const RETRYABLE = new Set(['SERIALIZATION_FAILURE', 'DEADLOCK', 'LOCK_TIMEOUT']);
const fake = { dialect: 'fake', classifyError: classifyFakeError };

describe('error classes', () => {
  it('there is one class per code, as DESIGN.md lists them', () => {
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(ERROR_CLASSES).toEqual(EXPECTED);
    expect(new Set(Object.values(ERROR_CLASSES)).size).toBe(ERROR_CODES.length);
  });

  it.each(ERROR_CODES.map((code) => [code]))('%s maps to its class, with code, name and retryable', (code) => {
    const ErrorClass = ERROR_CLASSES[code];
    const error = new ErrorClass('message', { dialect: 'fake', cause: new Error('driver') });
    expect(error).toBeInstanceOf(EXPECTED[code]);
    expect(error).toBeInstanceOf(SessionFactoryError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(EXPECTED[code].name);
    expect(error.retryable).toBe(RETRYABLE.has(code));
    expect(error.message).toBe('message');
    expect(error.dialect).toBe('fake');
    expect((error.cause as Error).message).toBe('driver');
    expect(error.suppressed).toEqual([]);
    expect(String(error)).toBe(`${EXPECTED[code].name}: message`);
  });

  it.each(ERROR_CODES.map((code) => [code]))('%s survives toJSON -> JSON -> errorFromJSON', (code) => {
    const original = new ERROR_CLASSES[code]('the message', {
      dialect: 'postgres',
      originalCode: '23505',
      originalMessage: 'duplicate key value',
      constraint: 'account_pkey',
      table: 'account',
      column: 'id',
    });
    const data = JSON.parse(JSON.stringify(original));
    expect(data).toEqual(original.toJSON());
    const again = errorFromJSON(data);
    expect(again).toBeInstanceOf(EXPECTED[code]);
    expect(again.toJSON()).toEqual(original.toJSON());
    expect(again).toMatchObject({
      code,
      name: EXPECTED[code].name,
      message: 'the message',
      dialect: 'postgres',
      originalCode: '23505',
      originalMessage: 'duplicate key value',
      constraint: 'account_pkey',
      table: 'account',
      column: 'id',
      retryable: RETRYABLE.has(code),
    });
  });

  it('errorFromJSON falls back to DatabaseError for an unknown code', () => {
    const again = errorFromJSON({ name: 'X', code: 'NOPE' as never, message: 'm' });
    expect(again).toBeInstanceOf(DatabaseError);
    expect(again.message).toBe('m');
  });
});

describe('toSessionFactoryError', () => {
  it('uses the adapter classification and keeps the driver error as cause', () => {
    const driverError = new FakeDriverError('FOREIGN_KEY_VIOLATION', 'fk failed');
    const error = toSessionFactoryError(driverError, fake);
    expect(error).toBeInstanceOf(ForeignKeyViolationError);
    expect(error).toMatchObject({
      dialect: 'fake',
      originalCode: 'FOREIGN_KEY_VIOLATION',
      originalMessage: 'fk failed',
      cause: driverError,
    });
    expect(error.message).toBe('fake: fk failed');
  });

  it('passes typed errors through unchanged', () => {
    const typed = new DeadlockError('x');
    expect(toSessionFactoryError(typed, fake)).toBe(typed);
  });

  it('falls back to DatabaseError (also when the classifier throws), keeping the driver code', () => {
    const driverError = Object.assign(new Error('weird'), { code: 'XX000' });
    const unknown = toSessionFactoryError(driverError, fake);
    expect(unknown).toBeInstanceOf(DatabaseError);
    expect(unknown.originalCode).toBe('XX000');
    const throwing = toSessionFactoryError(driverError, {
      dialect: 'fake',
      classifyError: () => {
        throw new Error('classifier bug');
      },
    });
    expect(throwing).toBeInstanceOf(DatabaseError);
    expect(toSessionFactoryError('a string', fake).message).toBe('fake: a string');
  });

  it('redacts passwords from driver messages', () => {
    const error = toSessionFactoryError(
      new Error('could not connect to postgres://app:s3cr3t@db:5432/app: refused'),
      fake,
    );
    expect(error.message).not.toContain('s3cr3t');
    expect(error.originalMessage).not.toContain('s3cr3t');
    expect(error.message).toContain('postgres://app:***@db:5432/app');
  });

  it('isConnectionLost: CONNECTION errors and classifications that say so', () => {
    expect(isConnectionLost(new ConnectionError('x'), fake)).toBe(true);
    expect(isConnectionLost(new FakeDriverError('CONNECTION', 'gone'), fake)).toBe(true);
    expect(isConnectionLost(new DeadlockError('x'), fake)).toBe(false);
    expect(isConnectionLost(new Error('other'), fake)).toBe(false);
    const lost = { dialect: 'x', classifyError: () => ({ code: 'DATABASE' as const, connectionLost: true }) };
    expect(isConnectionLost(new Error('socket hang up'), lost)).toBe(true);
  });
});

describe('redactPassword', () => {
  it.each([
    ['postgres://app:s3cret@db/app', 'postgres://app:***@db/app'],
    ['mysql://root:pa%40ss@127.0.0.1:3306/shop?ssl=true', 'mysql://root:***@127.0.0.1:3306/shop?ssl=true'],
    ['connect to postgresql://u:p@h/db failed', 'connect to postgresql://u:***@h/db failed'],
    ['host=db user=app password=s3cret dbname=app', 'host=db user=app password=*** dbname=app'],
    ['Password: s3cret;', 'Password: ***;'],
  ])('%s -> %s', (input, output) => {
    expect(redactPassword(input)).toBe(output);
  });

  it('leaves URLs without a password unchanged', () => {
    for (const url of ['postgres://app@db/app', 'sqlite:app.db', 'mysql://db:3306/shop', 'file:///tmp/x.db']) {
      expect(redactPassword(url)).toBe(url);
    }
  });

  it('hides every character of a password that contains a raw "@"', () => {
    const redacted = redactPassword('postgres://app:p@ss@db/app');
    expect(redacted).toBe('postgres://app:***@db/app');
  });
});

describe('passwords in factory messages', () => {
  it('pool timeouts of async and sync sessions never show a password the adapter description carries', async () => {
    const base = fakeAdapter();
    // An adapter that forgot to redact its description: core must not repeat the secret.
    const { sf } = await harness({ pool: { size: 1, maxOverflow: 0, timeoutMs: 30 } }, undefined, {
      ...base,
      description: 'fake://app:hunter2@db/app',
    });
    const held = await sf.begin();
    const asyncError = await rejection(sf.session(async () => {}));
    const syncError = thrown(() => sf.syncSession(() => {}));
    await held.rollback();
    expect(asyncError).toBeInstanceOf(PoolTimeoutError);
    expect(asyncError.message).toContain('fake://app:***@db/app');
    expect(syncError).toBeInstanceOf(PoolTimeoutError);
    expect(syncError.message).not.toContain('hunter2');
    base.dispose();
  });
});
