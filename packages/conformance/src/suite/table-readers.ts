import type { Kysely } from 'kysely';
import type { ConformanceDB } from './conformance-schema.js';
import { type AccountRow, DEFAULT_ACCOUNTS } from './fixtures.js';

/**
 * Inserts accounts (default: alice and bob with 100 each).
 *
 * @example
 * ```ts
 * await seedAccounts(observer.db);
 * ```
 */
export async function seedAccounts(
  db: Kysely<ConformanceDB>,
  rows: readonly AccountRow[] = DEFAULT_ACCOUNTS,
): Promise<void> {
  await db
    .insertInto('account')
    .values(rows.map((row) => ({ ...row })))
    .execute();
}

/**
 * All accounts ordered by id.
 *
 * @example
 * ```ts
 * expect(await readAccounts(observer.db)).toEqual([{ id: 1, owner: 'alice', balance: 100 }]);
 * ```
 */
export async function readAccounts(db: Kysely<ConformanceDB>): Promise<AccountRow[]> {
  const rows = await db.selectFrom('account').select(['id', 'owner', 'balance']).orderBy('id').execute();
  return rows.map((row) => ({ id: Number(row.id), owner: String(row.owner), balance: Number(row.balance) }));
}

/**
 * Ids of all accounts, ordered.
 *
 * @example
 * ```ts
 * expect(await accountIds(observer.db)).toEqual([1, 3]);
 * ```
 */
export async function accountIds(db: Kysely<ConformanceDB>): Promise<number[]> {
  return (await readAccounts(db)).map((row) => row.id);
}

/**
 * The balance of one account (undefined if it does not exist).
 *
 * @example
 * ```ts
 * expect(await balanceOf(tx, 1)).toBe(100);
 * ```
 */
export async function balanceOf(db: Kysely<ConformanceDB>, id: number): Promise<number | undefined> {
  const row = await db.selectFrom('account').select('balance').where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : Number(row.balance);
}

/**
 * Labels of `event_log` ordered by id.
 *
 * @example
 * ```ts
 * expect(await readLog(observer.db)).toEqual(['a1', 'a2']);
 * ```
 */
export async function readLog(db: Kysely<ConformanceDB>): Promise<string[]> {
  const rows = await db.selectFrom('event_log').select(['id', 'label']).orderBy('id').execute();
  return rows.map((row) => String(row.label));
}

/**
 * Number of `entry` rows and the sum of their amounts.
 *
 * @example
 * ```ts
 * expect(await entryTotals(observer.db)).toEqual({ count: 50, sum: 2550 });
 * ```
 */
export async function entryTotals(db: Kysely<ConformanceDB>): Promise<{ count: number; sum: number }> {
  const row = await db
    .selectFrom('entry')
    .select((eb) => [eb.fn.countAll().as('count'), eb.fn.sum('amount').as('sum')])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), sum: row.sum === null ? 0 : Number(row.sum) };
}
