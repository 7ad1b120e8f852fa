import type { SessionFactory } from '@sessionfactory/core';
import { sql } from 'kysely';

/**
 * The ledger's tables, as Kysely sees them. The example owns exactly these two tables
 * (prefixed `ledger_` so they are easy to spot in a shared Postgres or MySQL database).
 */
export interface LedgerDB {
  ledger_account: AccountTable;
  ledger_transfer: TransferTable;
}

export interface AccountTable {
  id: number;
  owner: string;
  /** In whole units; the CHECK constraint keeps it >= 0. */
  balance: number;
}

export interface TransferTable {
  id: number;
  from_id: number;
  to_id: number;
  /** The CHECK constraint keeps it > 0. */
  amount: number;
}

/** Constraint names, so that error messages and checks can refer to them on every database. */
export const CONSTRAINTS = {
  ownerUnique: 'ledger_account_owner_key',
  balanceNonNegative: 'ledger_account_balance_check',
  amountPositive: 'ledger_transfer_amount_check',
} as const;

/**
 * Drops the old tables (so reruns start clean) and creates them again, with Kysely's schema
 * builder, which writes the right DDL for each database. It runs on one connection in
 * autocommit mode (`sf.connection`): DDL is not part of a unit of work, and on MySQL it
 * would commit implicitly anyway.
 */
export async function createSchema(sf: SessionFactory<LedgerDB>): Promise<void> {
  await sf.connection(async (db) => {
    // Children first: ledger_transfer references ledger_account.
    await db.schema.dropTable('ledger_transfer').ifExists().execute();
    await db.schema.dropTable('ledger_account').ifExists().execute();

    await db.schema
      .createTable('ledger_account')
      .addColumn('id', 'integer', (col) => col.primaryKey())
      .addColumn('owner', 'varchar(100)', (col) => col.notNull())
      .addColumn('balance', 'integer', (col) => col.notNull())
      .addUniqueConstraint(CONSTRAINTS.ownerUnique, ['owner'])
      .addCheckConstraint(CONSTRAINTS.balanceNonNegative, sql`balance >= 0`)
      .execute();

    // Transfer ids are chosen by the application (like an idempotency key), which keeps the
    // DDL free of dialect-specific auto-increment syntax.
    await db.schema
      .createTable('ledger_transfer')
      .addColumn('id', 'integer', (col) => col.primaryKey())
      .addColumn('from_id', 'integer', (col) => col.notNull())
      .addColumn('to_id', 'integer', (col) => col.notNull())
      .addColumn('amount', 'integer', (col) => col.notNull())
      .addForeignKeyConstraint('ledger_transfer_from_fk', ['from_id'], 'ledger_account', ['id'])
      .addForeignKeyConstraint('ledger_transfer_to_fk', ['to_id'], 'ledger_account', ['id'])
      .addCheckConstraint(CONSTRAINTS.amountPositive, sql`amount > 0`)
      .execute();
  });
}
