import { CheckViolationError, type SessionFactory, type SessionOptions } from '@sessionfactory/core';
import type { Kysely } from 'kysely';
import type { AccountTable, LedgerDB } from './schema.js';

/** Money moving from one account to another. */
export interface Transfer {
  readonly from: number;
  readonly to: number;
  readonly amount: number;
}

/** What a committed (or rolled back) transfer hands to its hooks. */
export interface Receipt extends Transfer {
  readonly transferId: number;
  /** The session it ran in (`tx.info.id`). */
  readonly sessionId: string;
}

/** Optional callbacks of `Ledger.transfer`, run by the session's hooks. */
export interface TransferHooks {
  /** Runs only after the COMMIT succeeded (`tx.onCommit`). */
  readonly committed?: (receipt: Receipt) => void;
  /** Runs after the transaction rolled back (`tx.onRollback`): once per failed attempt. */
  readonly rolledBack?: (receipt: Receipt) => void;
}

/** What `transferWithFee` did with its optional fee step. */
export interface FeeOutcome {
  readonly transferId: number;
  readonly feeCharged: boolean;
  /** Why the fee step was rolled back, when it was. */
  readonly feeError?: CheckViolationError;
}

/**
 * Every transfer runs serializable: the database (not the application) guarantees that
 * concurrent transfers behave as if they ran one after another. When it cannot (Postgres
 * serialization failure, MySQL deadlock or lock timeout), the error is `retryable` and the
 * factory runs the whole unit of work again, after a short random backoff.
 */
export const TRANSFER_SESSION: SessionOptions = {
  isolation: 'serializable',
  retry: { attempts: 25, baseDelayMs: 5, maxDelayMs: 200 },
};

/**
 * The ledger's operations. Each public method is one unit of work: `sf.session(fn)` opens a
 * transaction, commits when `fn` resolves, rolls back (and rethrows) when it throws.
 */
export class Ledger {
  readonly sf: SessionFactory<LedgerDB>;
  /** How many times a transfer's unit of work started, retries included. */
  attempts = 0;
  /** The most attempts one `transfer` call needed. */
  mostAttempts = 0;
  #lastTransferId = 0;

  constructor(sf: SessionFactory<LedgerDB>) {
    this.sf = sf;
  }

  /** Opens accounts in one transaction: all of them or none. */
  async openAccounts(accounts: readonly AccountTable[]): Promise<void> {
    await this.sf.session(async (tx) => {
      await tx.insertInto('ledger_account').values(accounts).execute();
    });
  }

  /**
   * Moves `amount` between two accounts. No balance check in the application: the
   * `balance >= 0` CHECK constraint rejects an overdraft, as `CheckViolationError`.
   */
  async transfer(transfer: Transfer, hooks: TransferHooks = {}): Promise<number> {
    const transferId = this.#nextTransferId();
    let attempts = 0;
    await this.sf.session(async (tx) => {
      this.attempts += 1;
      attempts += 1;
      this.mostAttempts = Math.max(this.mostAttempts, attempts);
      const receipt: Receipt = { ...transfer, transferId, sessionId: tx.info.id };
      const { committed, rolledBack } = hooks;
      if (committed) tx.onCommit(() => committed(receipt));
      if (rolledBack) tx.onRollback(() => rolledBack(receipt));
      await moveMoney(tx, transferId, transfer);
    }, TRANSFER_SESSION);
    return transferId;
  }

  /**
   * A transfer plus a fee, in one transaction. The fee step runs in a savepoint
   * (`tx.savepoint`): if the fee would overdraw the account, only the fee is rolled back and
   * waived; the transfer itself still commits.
   */
  async transferWithFee(transfer: Transfer, fee: Transfer): Promise<FeeOutcome> {
    const transferId = this.#nextTransferId();
    const feeId = this.#nextTransferId();
    return this.sf.session(async (tx) => {
      this.attempts += 1;
      await moveMoney(tx, transferId, transfer);
      try {
        await tx.savepoint((sp) => moveMoney(sp, feeId, fee));
        return { transferId, feeCharged: true };
      } catch (error) {
        // Only the expected failure is absorbed; anything else rolls back the whole session.
        if (!(error instanceof CheckViolationError)) throw error;
        return { transferId, feeCharged: false, feeError: error };
      }
    }, TRANSFER_SESSION);
  }

  /** Balances by account id, read outside any transaction (`sf.db` runs each query on a pooled connection). */
  async balances(): Promise<Map<number, number>> {
    const rows = await this.sf.db.selectFrom('ledger_account').select(['id', 'balance']).orderBy('id').execute();
    return new Map(rows.map((row) => [row.id, Number(row.balance)]));
  }

  async accountCount(): Promise<number> {
    return this.#count('ledger_account');
  }

  async transferCount(): Promise<number> {
    return this.#count('ledger_transfer');
  }

  async #count(table: keyof LedgerDB): Promise<number> {
    const row = await this.sf.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // Ids are handed out by the application; a retried attempt reuses its id.
  #nextTransferId(): number {
    this.#lastTransferId += 1;
    return this.#lastTransferId;
  }
}

/**
 * The statements of one transfer, on whatever `tx` they are given (a session or a savepoint).
 * Both accounts are updated in id order, so two transfers between the same accounts lock
 * them in the same order and cannot deadlock each other.
 */
async function moveMoney(tx: Kysely<LedgerDB>, transferId: number, { from, to, amount }: Transfer): Promise<void> {
  const changes = [
    { id: from, delta: -amount },
    { id: to, delta: amount },
  ].sort((a, b) => a.id - b.id);
  for (const { id, delta } of changes) {
    await tx
      .updateTable('ledger_account')
      .set((eb) => ({ balance: eb('balance', '+', delta) }))
      .where('id', '=', id)
      .execute();
  }
  await tx.insertInto('ledger_transfer').values({ id: transferId, from_id: from, to_id: to, amount }).execute();
}
