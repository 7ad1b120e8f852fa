import { type Kysely, sql } from 'kysely';

/** The tables every case works on. */
export interface ConformanceDB {
  account: { id: number; owner: string; balance: number };
  entry: { id: number; account_id: number; amount: number };
  event_log: { id: number; label: string };
}

/** Names of the constraints the error cases expect to see reported. */
export const CONSTRAINTS = {
  ownerUnique: 'account_owner_uq',
  balanceCheck: 'account_balance_ck',
  entryAccountForeignKey: 'entry_account_fk',
} as const;

/**
 * Creates the suite's tables with Kysely's schema builder, so the same DDL runs on every
 * dialect: explicit integer ids, a UNIQUE column, a CHECK constraint and a foreign key.
 *
 * @example
 * ```ts
 * await sf.connection((db) => createConformanceSchema(db));
 * ```
 */
export async function createConformanceSchema(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('account')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('owner', 'varchar(100)', (c) => c.notNull())
    .addColumn('balance', 'integer', (c) => c.notNull())
    .addUniqueConstraint(CONSTRAINTS.ownerUnique, ['owner'])
    .addCheckConstraint(CONSTRAINTS.balanceCheck, sql`balance >= 0`)
    .execute();
  await db.schema
    .createTable('entry')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('account_id', 'integer', (c) => c.notNull())
    .addColumn('amount', 'integer', (c) => c.notNull())
    .addForeignKeyConstraint(CONSTRAINTS.entryAccountForeignKey, ['account_id'], 'account', ['id'])
    .execute();
  await db.schema
    .createTable('event_log')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('label', 'varchar(100)', (c) => c.notNull())
    .execute();
}

/**
 * Deletes every row (children first), so each case starts from empty tables.
 *
 * @example
 * ```ts
 * await admin.connection((db) => clearConformanceTables(db));
 * ```
 */
export async function clearConformanceTables(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('entry').execute();
  await db.deleteFrom('account').execute();
  await db.deleteFrom('event_log').execute();
}
