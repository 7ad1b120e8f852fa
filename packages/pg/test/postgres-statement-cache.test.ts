import { createSessionFactory } from '@sessionfactory/core';
import type { DriverConnection } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postgres } from '../src/index.js';
import { postgresReplication } from '../src/postgres-replication.js';
import { resolvePostgresConfig } from '../src/resolve-postgres-config.js';
import { StatementNames } from '../src/statement-names.js';
import { createTestSchema, TEST_URL, type TestSchema } from './support/test-database.js';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema();
});

afterAll(async () => {
  await schema.drop();
});

const byN = (n: number) => CompiledQuery.raw('SELECT n FROM numbers WHERE n = $1', [n]);

/** This connection's server-side prepared statements (`*`: the check itself is never named). */
async function prepared(connection: DriverConnection): Promise<{ name: string; statement: string }[]> {
  const { rows } = await connection.execute(
    CompiledQuery.raw("SELECT * FROM pg_prepared_statements WHERE name LIKE 'sf\\_%' ORDER BY name"),
  );
  return (rows as { name: string; statement: string }[]).map(({ name, statement }) => ({ name, statement }));
}

describe('named statements (statementCacheSize)', () => {
  let connection: DriverConnection;

  async function connect(options: { statementCacheSize?: number } = {}): Promise<DriverConnection> {
    connection = await postgres({ url: TEST_URL, searchPath: schema.name, ...options }).connect();
    return connection;
  }

  beforeEach(async () => {
    await schema.admin(`DROP TABLE IF EXISTS ${schema.name}.numbers`);
    await schema.admin(`CREATE TABLE ${schema.name}.numbers AS SELECT g::int AS n FROM generate_series(1, 10) g`);
  });

  afterEach(async () => {
    await connection?.close();
  });

  it('names a statement the second time its text runs, and binds to it from then on', async () => {
    const c = await connect();
    await c.execute(byN(1));
    expect(await prepared(c)).toEqual([]);
    expect((await c.execute(byN(2))).rows).toEqual([{ n: 2 }]);
    const named = await prepared(c);
    expect(named).toEqual([{ name: expect.stringMatching(/^sf_\d+$/), statement: byN(0).sql }]);
    expect((await c.execute(byN(3))).rows).toEqual([{ n: 3 }]);
    expect(await prepared(c)).toEqual(named);
  });

  it('never names SELECT * or RETURNING * (a migration would break them), but names count(*)', async () => {
    const c = await connect();
    const star = CompiledQuery.raw('SELECT * FROM numbers WHERE n = $1', [1]);
    const returning = CompiledQuery.raw('UPDATE numbers SET n = n WHERE n = $1 RETURNING *', [1]);
    const count = CompiledQuery.raw('SELECT count(*) AS c FROM numbers WHERE n > $1', [0]);
    for (let i = 0; i < 3; i++) {
      await c.execute(star);
      await c.execute(returning);
      await c.execute(count);
    }
    expect((await prepared(c)).map((p) => p.statement)).toEqual([count.sql]);
  });

  it('closes the least recently used name when the cache is full', async () => {
    const c = await connect({ statementCacheSize: 2 });
    const texts = ['SELECT n FROM numbers WHERE n = $1', 'SELECT n + 1 AS m FROM numbers WHERE n = $1'];
    const third = 'SELECT n + 2 AS m FROM numbers WHERE n = $1';
    for (const sql of [...texts, texts[0]!, third]) {
      await c.execute(CompiledQuery.raw(sql, [1]));
      await c.execute(CompiledQuery.raw(sql, [1]));
    }
    // texts[1] was least recently used when `third` took a slot; its Close went with `third`'s next run.
    await c.execute(CompiledQuery.raw(third, [1]));
    expect((await prepared(c)).map((p) => p.statement).sort()).toEqual([texts[0], third].sort());
    expect((await c.execute(CompiledQuery.raw(texts[1]!, [4]))).rows).toEqual([{ m: 5 }]);
  });

  it('parses again after DISCARD ALL or DEALLOCATE ALL dropped the server side', async () => {
    const c = await connect();
    await c.execute(byN(1));
    await c.execute(byN(1));
    await c.execute(CompiledQuery.raw('DISCARD ALL'));
    await c.execute(CompiledQuery.raw(`SET search_path TO ${schema.name}`));
    expect((await c.execute(byN(5))).rows).toEqual([{ n: 5 }]);
    await c.execute(byN(5));
    await c.execute(CompiledQuery.raw('DEALLOCATE ALL'));
    expect((await c.execute(byN(6))).rows).toEqual([{ n: 6 }]);
    await c.reset!();
    expect((await c.execute(byN(7))).rows).toEqual([{ n: 7 }]);
    expect((await c.execute(byN(8))).rows).toEqual([{ n: 8 }]);
  });

  it('a plan made stale by a column type change: re-run unnamed outside a transaction, the error stands inside one', async () => {
    const c = await connect();
    await c.execute(byN(1));
    await c.execute(byN(1));
    await schema.admin(`ALTER TABLE ${schema.name}.numbers ALTER COLUMN n TYPE bigint`);
    // Autocommit: the failed run did nothing, so it runs again unnamed and answers.
    expect((await c.execute(byN(2))).rows).toEqual([{ n: '2' }]);

    await c.execute(byN(1));
    await c.execute(byN(1));
    await schema.admin(`ALTER TABLE ${schema.name}.numbers ALTER COLUMN n TYPE int`);
    await c.execute(CompiledQuery.raw('BEGIN'));
    await expect(c.execute(byN(3))).rejects.toMatchObject({ code: '0A000' });
    expect(c.inTransaction?.()).toBe(true);
    await c.execute(CompiledQuery.raw('ROLLBACK'));
    // The stale name was given up: the next runs parse afresh.
    expect((await c.execute(byN(3))).rows).toEqual([{ n: 3 }]);
    expect((await c.execute(byN(4))).rows).toEqual([{ n: 4 }]);
  });

  it('statementCacheSize 0 names nothing', async () => {
    const c = await connect({ statementCacheSize: 0 });
    for (let i = 0; i < 3; i++) await c.execute(byN(i));
    expect(await prepared(c)).toEqual([]);
  });

  it('sessions of a factory run their hot statements named, BEGIN still travelling with the first', async () => {
    const sf = createSessionFactory<{ numbers: { n: number } }>(postgres({ url: TEST_URL, searchPath: schema.name }), {
      pool: { size: 1 },
    });
    try {
      for (let i = 1; i <= 3; i++) {
        const row = await sf.session(async (tx) => {
          const found = await tx.selectFrom('numbers').select('n').where('n', '=', i).executeTakeFirst();
          await tx
            .updateTable('numbers')
            .set({ n: i + 100 })
            .where('n', '=', i)
            .execute();
          return found;
        });
        expect(row).toEqual({ n: i });
      }
      // One connection (pool of 1): the SELECT and the UPDATE, each run three times, are named.
      const names = await sf.connection(async (db) => {
        const { rows } = await db.executeQuery<{ statement: string }>(
          CompiledQuery.raw("SELECT * FROM pg_prepared_statements WHERE name LIKE 'sf\\_%'"),
        );
        return rows.map((r) => r.statement).sort();
      });
      expect(names).toEqual([
        'select "n" from "numbers" where "n" = $1',
        'update "numbers" set "n" = $1 where "n" = $2',
      ]);
      const rows = await sf.db.selectFrom('numbers').select('n').where('n', '>', 100).orderBy('n').execute();
      expect(rows).toEqual([{ n: 101 }, { n: 102 }, { n: 103 }]);
    } finally {
      await sf.close();
    }
  });
});

describe('statement cache configuration', () => {
  it('defaults to 100 per connection, 0 behind a transaction pooler unless given', () => {
    expect(resolvePostgresConfig({ url: TEST_URL }).statementCacheSize).toBe(100);
    expect(resolvePostgresConfig({ url: TEST_URL, transactionPooling: true }).statementCacheSize).toBe(0);
    expect(
      resolvePostgresConfig({ url: TEST_URL, transactionPooling: true, statementCacheSize: 50 }).statementCacheSize,
    ).toBe(50);
    expect(resolvePostgresConfig(`${TEST_URL}?statement_cache_size=0`).statementCacheSize).toBe(0);
  });

  it("a replica given by URL keeps the primary config's size", () => {
    const opened: unknown[] = [];
    const replication = postgresReplication({ url: TEST_URL, statementCacheSize: 0 }, (input) => {
      opened.push(input);
      return postgres(input);
    });
    replication.replicaAdapter!('postgres://replica@127.0.0.1:5433/test');
    expect(opened).toEqual([{ url: 'postgres://replica@127.0.0.1:5433/test', statementCacheSize: 0 }]);
  });

  it('refuses a size that is not a whole number, naming the option', () => {
    expect(() => postgres({ url: TEST_URL, statementCacheSize: -1 })).toThrow(/statementCacheSize/);
    expect(() => postgres({ url: TEST_URL, statementCacheSize: 1.5 })).toThrow(/statementCacheSize/);
    expect(() => postgres(`${TEST_URL}?statement_cache_size=lots`)).toThrow(/statement_cache_size/);
  });
});

describe('StatementNames', () => {
  it('names on the second sight, never reuses a name, and hands out closings once', () => {
    const names = new StatementNames(1);
    expect(names.nameFor('select 1')).toBeUndefined();
    expect(names.nameFor('select 1')).toBe('sf_1');
    expect(names.nameFor('select 2')).toBeUndefined();
    expect(names.nameFor('select 2')).toBe('sf_2');
    expect(names.takeClosing()).toEqual(['sf_1']);
    expect(names.takeClosing()).toEqual([]);
    names.forget('select 2');
    expect(names.takeClosing()).toEqual(['sf_2']);
    expect(names.nameFor('select 2')).toBeUndefined();
    expect(names.nameFor('select 2')).toBe('sf_3');
    expect(names.clear()).toEqual(['sf_3']);
    expect(names.size).toBe(0);
  });

  it('leaves utility and transaction statements unnamed', () => {
    const names = new StatementNames(10);
    for (const sql of ['BEGIN', 'COMMIT', 'SET search_path TO x', 'DISCARD ALL', 'select a * b from t']) {
      names.nameFor(sql);
      expect(names.nameFor(sql)).toBeUndefined();
    }
    expect(names.dropsAll('DISCARD ALL')).toBe(true);
    expect(names.dropsAll('COMMIT')).toBe(false);
  });
});
