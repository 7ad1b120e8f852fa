import type { SessionFactory } from '@sessionfactory/core';
import type { LedgerDB } from './schema.js';

export interface BalanceRow {
  readonly id: number;
  readonly owner: string;
  readonly balance: number;
}

/**
 * The balance report, as a synchronous unit of work: no `await` anywhere. Queries are built
 * with `tx.db` (a compile-only Kysely) and run with `tx.all`. SQLite runs it natively on its
 * connection; Postgres and MySQL run it through a worker thread while this thread waits.
 * It is read-only: the database itself would refuse a write.
 */
export function balanceReport(sf: SessionFactory<LedgerDB>): BalanceRow[] {
  const rows = sf.syncSession(
    (tx) => tx.all(tx.db.selectFrom('ledger_account').select(['id', 'owner', 'balance']).orderBy('id')),
    { readOnly: true },
  );
  // MySQL may hand back numbers as strings for some column types; the report wants numbers.
  return rows.map((row) => ({ id: Number(row.id), owner: row.owner, balance: Number(row.balance) }));
}

/** The report as aligned text lines, with a total. */
export function formatReport(rows: readonly BalanceRow[]): string[] {
  const width = Math.max(5, ...rows.map((row) => row.owner.length));
  const total = rows.reduce((sum, row) => sum + row.balance, 0);
  const line = (owner: string, balance: number | string) => `${owner.padEnd(width)}  ${String(balance).padStart(7)}`;
  return [
    line('owner', 'balance'),
    ...rows.map((row) => line(row.owner, row.balance)),
    `${'-'.repeat(width)}  ${'-'.repeat(7)}`,
    line('total', total),
  ];
}
