import { createSessionFactory, type SessionFactory, StatementTimeoutError } from '@sessionfactory/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyPostgresError, type PostgresConfig, postgres } from '../src/index.js';
import { type PgBouncer, usePgBouncer } from './support/pgbouncer.js';
import { createTestSchema, type TestSchema } from './support/test-database.js';

// Through PgBouncer's `test_one` database: every client shares ONE server connection, so
// anything a client leaves on it (a SET, a search_path) reaches the next client at once.

interface DB {
  who: { name: string };
}

let bouncer: PgBouncer;
let schemaA: TestSchema;
let schemaB: TestSchema;
let oneServerUrl: string;
const factories: SessionFactory<DB>[] = [];

function factory(config: Omit<PostgresConfig, 'url'>): SessionFactory<DB> {
  const sf = createSessionFactory<DB>(postgres({ url: oneServerUrl, ...config }), {
    pool: { size: 3, timeoutMs: 10_000 },
  });
  factories.push(sf);
  return sf;
}

const searchPathOf = async (db: SessionFactory<DB>['db']) =>
  (await sql<{ path: string }>`select current_setting('search_path') as path`.execute(db)).rows[0]?.path;

beforeAll(async () => {
  bouncer = await usePgBouncer();
  const url = new URL(bouncer.url);
  url.pathname = '/test_one';
  oneServerUrl = url.toString();
  schemaA = await createTestSchema();
  schemaB = await createTestSchema();
  await schemaA.admin(`create table ${schemaA.name}.who (name text not null)`);
  await schemaA.admin(`insert into ${schemaA.name}.who values ('a')`);
  await schemaB.admin(`create table ${schemaB.name}.who (name text not null)`);
  await schemaB.admin(`insert into ${schemaB.name}.who values ('b')`);
}, 60_000);

afterAll(async () => {
  await Promise.all(factories.map((sf) => sf.close({ timeoutMs: 2_000 })));
  await schemaA?.drop();
  await schemaB?.drop();
  bouncer?.stop();
}, 60_000);

describe('PgBouncer in transaction mode, one shared server connection', () => {
  it('searchPath is per transaction: interleaved clients each see their own schema, a third sees none', async () => {
    const a = factory({ searchPath: schemaA.name, transactionPooling: true });
    const b = factory({ searchPath: schemaB.name, transactionPooling: true });
    const plain = factory({ transactionPooling: true });
    const readWho = (sf: SessionFactory<DB>, inSession: boolean) =>
      inSession
        ? sf.session((tx) => tx.selectFrom('who').select('name').executeTakeFirstOrThrow())
        : sf.db.selectFrom('who').select('name').executeTakeFirstOrThrow();
    const runs = Array.from({ length: 40 }, (_, i) =>
      Promise.all([readWho(a, i % 2 === 0), readWho(b, i % 3 === 0), searchPathOf(plain.db)]),
    );
    for (const [fromA, fromB, plainPath] of await Promise.all(runs)) {
      expect(fromA.name).toBe('a');
      expect(fromB.name).toBe('b');
      expect(plainPath).toBe('"$user", public');
    }
    // Streaming outside a session opens its own transaction, with the search_path in it.
    const streamed: string[] = [];
    for await (const row of a.db.selectFrom('who').select('name').stream(10)) streamed.push(row.name);
    expect(streamed).toEqual(['a']);
  });

  it('statementTimeoutMs is per transaction: it stops its own statements and nobody else’s', async () => {
    const strict = factory({ statementTimeoutMs: 100, transactionPooling: true });
    const relaxed = factory({ transactionPooling: true });
    const error = await strict.session((tx) => sql`select pg_sleep(1)`.execute(tx)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatementTimeoutError);
    const outside = await strict.db.executeQuery(sql`select pg_sleep(1)`.compile(strict.db)).catch((e: unknown) => e);
    expect(outside).toBeInstanceOf(StatementTimeoutError);
    const timeoutSeenByOthers = async () =>
      (await sql<{ t: string }>`select current_setting('statement_timeout') as t`.execute(relaxed.db)).rows[0]?.t;
    expect(await timeoutSeenByOthers()).toBe('0');
    expect(
      await relaxed.session(async (tx) => (await sql`select pg_sleep(0.3), 1 as one`.execute(tx)).rows.length),
    ).toBe(1);
  });

  it('prepared queries use unnamed statements, so clients sharing a server connection never clash', async () => {
    const a = factory({ searchPath: schemaA.name, transactionPooling: true });
    const b = factory({ searchPath: schemaB.name, transactionPooling: true });
    const prepared = (sf: SessionFactory<DB>) =>
      sf.prepare<{ n: string }>((db, param) => db.selectFrom('who').select('name').where('name', '<>', param('n')));
    const fromA = prepared(a);
    const fromB = prepared(b);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? fromA : fromB).execute({ n: 'zzz' })),
    );
    results.forEach((rows, i) => {
      expect(rows).toEqual([{ name: i % 2 === 0 ? 'a' : 'b' }]);
    });
  });

  it('without transactionPooling the connect-time SET leaks to other clients (why the option exists)', async () => {
    const careless = factory({ searchPath: schemaA.name });
    await careless.session((tx) => tx.selectFrom('who').select('name').execute());
    const bystander = factory({ transactionPooling: true });
    expect(await searchPathOf(bystander.db)).toBe(schemaA.name);
    // Cleaned up for the other cases: the next client to run DISCARD ALL resets the shared connection.
    await bystander.connection((db) => sql`discard all`.execute(db));
    await careless.close();
  });
});

describe('login failures PgBouncer relays with SQLSTATE 08P01', () => {
  it.each([
    ['role "x" does not exist', 'AUTHENTICATION'],
    ['password authentication failed for user "x"', 'AUTHENTICATION'],
    ['no such user: x', 'AUTHENTICATION'],
    ['database "x" does not exist', 'DATABASE_NOT_FOUND'],
    ['no such database: x', 'DATABASE_NOT_FOUND'],
    ['server conn crashed?', 'CONNECTION'],
  ])('%s is %s', (message, code) => {
    expect(classifyPostgresError(Object.assign(new Error(message), { code: '08P01' }))?.code).toBe(code);
  });
});
