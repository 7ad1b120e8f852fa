import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import { describe, expect, it } from 'vitest';
import { sqlite } from '../src/index.js';

describe('sqlite() adapter', () => {
  it('describes a file database', () => {
    const adapter = sqlite('data/app.db');
    expect(adapter.dialect).toBe('sqlite');
    expect(adapter.description).toBe('data/app.db');
    // One writer plus readers; SQLite runs one writer at a time, which core's pool enforces.
    expect(adapter.poolDefaults).toEqual({ size: 4, maxOverflow: 0 });
    expect(adapter.maxWriters).toBe(1);
    expect(adapter.maxConnections).toBeUndefined();
    expect(adapter.capabilities.sharedDatabase).toBe(true);
  });

  it('limits an in-memory database to one connection that nobody else shares', () => {
    const adapter = sqlite(':memory:');
    expect(adapter.description).toBe(':memory:');
    expect(adapter.maxConnections).toBe(1);
    expect(adapter.poolDefaults).toEqual({ size: 1, maxOverflow: 0 });
    expect(adapter.capabilities.sharedDatabase).toBe(false);
  });

  it('declares what SQLite can do, every isolation level running as serializable', () => {
    expect(sqlite('app.db').capabilities).toEqual({
      isolation: {
        'read uncommitted': 'serializable',
        'read committed': 'serializable',
        'repeatable read': 'serializable',
        serializable: 'serializable',
      },
      readOnly: true,
      savepoints: true,
      cancel: false,
      sync: 'native',
      sharedDatabase: true,
      transactionalDdl: true,
      returning: true,
      concurrencyErrors: ['LOCK_TIMEOUT'],
    });
  });

  it('offers native sync connections and no cancel', () => {
    const adapter = sqlite(':memory:');
    expect(typeof adapter.connectSync).toBe('function');
    expect(adapter.cancel).toBeUndefined();
    expect(adapter.workerSpec).toBeUndefined();
  });

  it('begins writers with BEGIN IMMEDIATE and leaves nothing to restore', () => {
    const { sql } = sqlite(':memory:');
    expect(sql.begin({ readOnly: false, isolation: 'serializable' })).toEqual(['BEGIN IMMEDIATE']);
    expect(sql.afterEnd?.({ readOnly: false })).toEqual([]);
  });

  it('begins read-only sessions with query_only and a deferred BEGIN, and restores writes after', () => {
    const { sql } = sqlite(':memory:');
    expect(sql.begin({ readOnly: true, isolation: 'serializable' })).toEqual([
      'PRAGMA query_only = ON',
      'BEGIN DEFERRED',
    ]);
    expect(sql.afterEnd?.({ readOnly: true })).toEqual(['PRAGMA query_only = OFF']);
  });

  it('ends transactions and manages savepoints', () => {
    const { sql } = sqlite(':memory:');
    expect(sql.commit).toBe('COMMIT');
    expect(sql.rollback).toBe('ROLLBACK');
    expect(sql.savepoint('sp_1')).toBe('SAVEPOINT sp_1');
    expect(sql.releaseSavepoint?.('sp_1')).toBe('RELEASE SAVEPOINT sp_1');
    expect(sql.rollbackToSavepoint('sp_1')).toBe('ROLLBACK TO SAVEPOINT sp_1');
  });

  it("uses Kysely's SQLite compiler, adapter and introspector", () => {
    const { kysely } = sqlite(':memory:');
    expect(kysely.createAdapter()).toBeInstanceOf(SqliteAdapter);
    const compiler = kysely.createQueryCompiler();
    expect(compiler).toBeInstanceOf(SqliteQueryCompiler);
    const db = new Kysely<any>({
      dialect: {
        createAdapter: kysely.createAdapter,
        createDriver: () => new DummyDriver(),
        createIntrospector: kysely.createIntrospector,
        createQueryCompiler: kysely.createQueryCompiler,
      },
    });
    expect(kysely.createIntrospector(db)).toBeInstanceOf(SqliteIntrospector);
    const compiled = db.selectFrom('account').select('id').where('email', '=', 'a@b.c').compile();
    expect(compiled.sql).toBe('select "id" from "account" where "email" = ?');
  });

  it('classifies SQLITE_CANTOPEN as a missing database only when the file had to exist', () => {
    const cantOpen = { code: 'SQLITE_CANTOPEN', message: 'unable to open database file' };
    expect(sqlite('app.db').classifyError(cantOpen)?.code).toBe('CONNECTION');
    expect(sqlite({ filename: 'app.db', fileMustExist: true }).classifyError(cantOpen)?.code).toBe(
      'DATABASE_NOT_FOUND',
    );
    expect(sqlite({ filename: 'app.db', readonly: true }).classifyError(cantOpen)?.code).toBe('DATABASE_NOT_FOUND');
  });

  it('is immutable', () => {
    expect(Object.isFrozen(sqlite(':memory:'))).toBe(true);
  });
});
