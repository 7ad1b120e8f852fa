import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSessionFactory,
  DatabaseError,
  PoolTimeoutError,
  type SessionFactory,
  UniqueViolationError,
} from '@sessionfactory/core';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqlite } from '../src/index.js';

interface DB {
  item: { id: number; name: string };
}

// Session-level behaviour that only SQLite has: its own auto-rollback, and one connection
// that serializes every statement.
describe('sqlite sessions', () => {
  let dir: string;
  let sf: SessionFactory<DB>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sf-sqlite-sessions-'));
    sf = createSessionFactory<DB>(sqlite(join(dir, 'db.sqlite')), { pool: { timeoutMs: 300 } });
    await sf.connection(async (db) => {
      await sql`create table item (id integer primary key, name text not null unique)`.execute(db);
    });
  });

  afterEach(async () => {
    await sf.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async () =>
    Number(
      (
        await sf.db
          .selectFrom('item')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('reports a transaction SQLite rolled back on its own instead of pretending to commit', async () => {
    const outcome = sf.session(async (tx) => {
      await tx.insertInto('item').values({ id: 1, name: 'a' }).execute();
      // OR ROLLBACK makes SQLite end the whole transaction on the conflict.
      await sql`insert or rollback into item (id, name) values (2, 'a')`.execute(tx).catch((error) => {
        expect(error).toBeInstanceOf(UniqueViolationError);
      });
      await sql`select 1`.execute(tx);
    });
    await expect(outcome).rejects.toBeInstanceOf(DatabaseError);
    await expect(outcome).rejects.toThrow(/rolled the transaction back on its own/);
    expect(await count()).toBe(0);
    // The connection is clean: the next session commits normally.
    await sf.session((tx) => tx.insertInto('item').values({ id: 3, name: 'c' }).execute());
    expect(await count()).toBe(1);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 0 });
  });

  it('does the same for a sync session', () => {
    expect(() =>
      sf.syncSession((tx) => {
        tx.run(tx.db.insertInto('item').values({ id: 1, name: 'a' }));
        expect(() => tx.run(sql`insert or rollback into item (id, name) values (2, 'a')`.compile(tx.db))).toThrow(
          UniqueViolationError,
        );
      }),
    ).toThrow(/rolled the transaction back on its own/);
    expect(sf.syncSession((tx) => tx.all(tx.db.selectFrom('item').selectAll()))).toEqual([]);
  });

  it('a query outside an open session waits for it instead of landing inside it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const session = sf.session(async (tx) => {
      await tx.insertInto('item').values({ id: 1, name: 'a' }).execute();
      await gate;
      throw new Error('roll back');
    });
    // sf.db outside the session needs the single connection: it waits, then sees the rollback.
    const outside = count();
    setTimeout(release, 50);
    await expect(session).rejects.toThrow('roll back');
    expect(await outside).toBe(0);
  });

  it('times out with the hint when a session awaits a query outside itself', async () => {
    const outcome = sf.session(async () => {
      await sf.session(async (inner) => inner.selectFrom('item').selectAll().execute(), { propagation: 'requiresNew' });
    });
    await expect(outcome).rejects.toBeInstanceOf(PoolTimeoutError);
    await expect(outcome).rejects.toThrow(/outside/);
  });
});
