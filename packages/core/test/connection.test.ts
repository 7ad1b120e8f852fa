import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { FactoryClosedError } from '../src/index.js';
import { BEGIN, harness, INSERT, ids, insert, ROLLBACK, recordQueries, rejection } from './support/harness.js';

describe('sf.connection(fn)', () => {
  it('pins every query of fn to one connection, in autocommit mode', async () => {
    const { adapter, sf } = await harness({ pool: { size: 3 } });
    const queries = recordQueries(sf);
    // Warm the pool so several idle connections exist to choose from.
    await Promise.all([sf.begin({ readOnly: true }), sf.begin({ readOnly: true })]).then((all) =>
      Promise.all(all.map((s) => s.rollback())),
    );
    queries.length = 0;
    adapter.reset();
    const result = await sf.connection(async (db) => {
      await sql`create temp table scratch (x integer)`.execute(db);
      await sql`insert into scratch values (1)`.execute(db);
      await insert(db, 1);
      return (await sql<{ x: number }>`select x from scratch`.execute(db)).rows;
    });
    expect(result).toEqual([{ x: 1 }]); // the temp table lives on that one connection
    expect(new Set(queries.map((q) => q.connectionId)).size).toBe(1);
    expect(queries.every((q) => q.sessionId === undefined)).toBe(true);
    expect(adapter.statements).toEqual([
      'create temp table scratch (x integer)',
      'insert into scratch values (1)',
      INSERT,
      'select x from scratch',
      'RESET',
    ]);
    expect(sf.stats().inUse).toBe(0);
    expect(await ids(sf)).toEqual([1]); // autocommit: visible without COMMIT
  });

  it('rolls back a transaction fn left open before the connection goes back', async () => {
    const { adapter, sf } = await harness();
    await sf.connection(async (db) => {
      await sql.raw(BEGIN).execute(db);
      await insert(db, 1);
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK, 'RESET']);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 0 });
    expect(await ids(sf)).toEqual([]);
    // The connection is clean: the next session on it works.
    await sf.session((tx) => insert(tx, 2));
    expect(await ids(sf)).toEqual([2]);
  });

  it('also when fn throws, and the error is rethrown', async () => {
    const { adapter, sf } = await harness();
    const error = await rejection(
      sf.connection(async (db) => {
        await sql.raw(BEGIN).execute(db);
        throw new Error('fn fails');
      }),
    );
    expect(error.message).toBe('fn fails');
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK, 'RESET']);
    expect(sf.stats().inUse).toBe(0);
  });

  it('resets session state before the connection is reused (temp tables gone), or destroys it when reset fails', async () => {
    const { adapter, sf } = await harness({ pool: { size: 1 } });
    await sf.connection(async (db) => {
      await sql`create temp table scratch (x integer)`.execute(db);
    });
    expect(sf.stats()).toMatchObject({ created: 1, invalidated: 0 });
    const error = await rejection(sf.connection((db) => sql`select x from scratch`.execute(db)));
    expect(error.message).toMatch(/no such table/);
    adapter.fail({ match: 'RESET', error: 'CONNECTION' });
    await sf.connection(async () => {});
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0 });
  });

  it('is not a session: sf.current() is undefined and sf.db does not join it', async () => {
    const { sf } = await harness();
    const queries = recordQueries(sf);
    await sf.connection(async (db) => {
      expect(sf.current()).toBeUndefined();
      await sql`select 1`.execute(db);
      await sql`select 2`.execute(sf.db);
    });
    expect(queries).toHaveLength(2);
    expect(queries[0]!.connectionId).not.toBe(queries[1]!.connectionId);
  });

  it('refuses to start on a closed factory', async () => {
    const { sf } = await harness();
    await sf.close();
    await expect(sf.connection(async () => {})).rejects.toThrow(FactoryClosedError);
  });
});
