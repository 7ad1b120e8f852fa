// Shared set-up for core's engine tests: a factory over the statement-recording fake adapter,
// a table to write to, and helpers that keep the exact-statement assertions readable.
import { type Kysely, sql } from 'kysely';
import { onTestFinished } from 'vitest';
import { createSessionFactory, type FactoryOptions, type QueryEvent, type SessionFactory } from '../../src/index.js';
import { type FakeAdapter, type FakeAdapterOptions, fakeAdapter } from '../../src/testing/index.js';

export interface DB {
  t: { id: number; name: string | null };
}

/** The dialect statements of the fake adapter. */
export const BEGIN = 'BEGIN READ WRITE';
export const BEGIN_RO = 'BEGIN READ ONLY';
export const COMMIT = 'COMMIT';
export const ROLLBACK = 'ROLLBACK';
export const SAVEPOINT = (n: number) => `SAVEPOINT sp_${n}`;
export const RELEASE = (n: number) => `RELEASE SAVEPOINT sp_${n}`;
export const ROLLBACK_TO = (n: number) => `ROLLBACK TO SAVEPOINT sp_${n}`;

/** What Kysely's SQLite compiler produces for the helpers below. */
export const INSERT = 'insert into "t" ("id") values (?)';
export const SELECT = 'select * from "t"';
export const MARK = (label: string) => `select '${label}'`;

export interface Harness {
  readonly adapter: FakeAdapter;
  readonly sf: SessionFactory<DB>;
}

/**
 * A factory over a fresh fake adapter with table `t` created; statements recorded so far are
 * forgotten, so `adapter.statements` starts empty. Closed and deleted when the test ends.
 * `wrap` replaces the fake with a modified copy of one (e.g. another description).
 */
export async function harness(
  options?: FactoryOptions,
  adapterOptions?: FakeAdapterOptions,
  wrap?: FakeAdapter,
): Promise<Harness> {
  const adapter = wrap ?? fakeAdapter(adapterOptions);
  const sf = createSessionFactory<DB>(adapter, options);
  onTestFinished(async () => {
    await sf.close({ timeoutMs: 2000 });
    adapter.dispose();
  });
  await sf.connection(async (db) => {
    await sql`create table t (id integer primary key, name text unique)`.execute(db);
  });
  adapter.reset();
  return { adapter, sf };
}

/** Inserts row `id` with `db` (a `tx`, `sf.db` or a pinned connection). */
export async function insert(db: Kysely<DB>, id: number, name: string | null = null): Promise<void> {
  if (name === null) await db.insertInto('t').values({ id }).execute();
  else await db.insertInto('t').values({ id, name }).execute();
}

/** Runs `select '<label>'`: a statement that shows up in `adapter.statements` by name. */
export async function mark(db: Kysely<DB>, label: string): Promise<void> {
  await sql.raw(`select '${label}'`).execute(db);
}

/** Ids of the committed rows of `t`, read with a fresh session-less connection. */
export async function ids(sf: SessionFactory<DB>): Promise<number[]> {
  const rows = await sf.db.selectFrom('t').select('id').orderBy('id').execute();
  return rows.map((row) => row.id);
}

/** Records every `query` event (statement, connection, session) of `sf`. */
export function recordQueries(sf: SessionFactory<DB>): QueryEvent[] {
  const events: QueryEvent[] = [];
  sf.on('query', (event) => events.push(event));
  return events;
}

/**
 * One timeline of statements (from `query` events) and markers pushed by the test, so the
 * order of hooks relative to COMMIT/ROLLBACK can be asserted.
 */
export function timeline(sf: SessionFactory<DB>): string[] {
  const entries: string[] = [];
  sf.on('query', (event) => entries.push(event.sql));
  return entries;
}

/** The error `promise` rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** The error `fn` throws (fails the test if it returns). */
export function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

/** A promise the test opens when it wants. */
export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
