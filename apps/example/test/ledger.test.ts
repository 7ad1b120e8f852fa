import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckViolationError,
  createSessionFactory,
  ForeignKeyViolationError,
  ReadOnlyViolationError,
  type SessionFactory,
  UniqueViolationError,
} from '@sessionfactory/core';
import { sqlite } from '@sessionfactory/sqlite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, type Receipt, type Transfer } from '../src/ledger.js';
import { balanceReport, formatReport } from '../src/report.js';
import { CONSTRAINTS, createSchema, type LedgerDB } from '../src/schema.js';

// The ledger's steps against a real SQLite file, one fresh schema per test.
const dir = mkdtempSync(join(tmpdir(), 'ledger-test-'));
let sf: SessionFactory<LedgerDB>;
let ledger: Ledger;

beforeAll(() => {
  sf = createSessionFactory<LedgerDB>(sqlite(join(dir, 'ledger.db')));
});

afterAll(async () => {
  await sf.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await createSchema(sf);
  ledger = new Ledger(sf);
  await ledger.openAccounts([
    { id: 1, owner: 'alice', balance: 100 },
    { id: 2, owner: 'bob', balance: 100 },
    { id: 3, owner: 'carol', balance: 100 },
    { id: 4, owner: 'fees', balance: 0 },
  ]);
});

const total = (balances: Map<number, number>) => [...balances.values()].reduce((a, b) => a + b, 0);

describe('schema', () => {
  it('can be created again over an existing one (drops first)', async () => {
    await ledger.transfer({ from: 1, to: 2, amount: 5 });
    await createSchema(sf);
    expect(await ledger.accountCount()).toBe(0);
    expect(await ledger.transferCount()).toBe(0);
  });
});

describe('concurrent transfers', () => {
  it('keep the total, never go negative and lose no update', async () => {
    const plan: Transfer[] = Array.from({ length: 30 }, (_, i) => ({
      from: (i % 3) + 1,
      to: ((i + 1) % 3) + 1,
      amount: 1 + (i % 9),
    }));
    const expected = new Map([
      [1, 100],
      [2, 100],
      [3, 100],
      [4, 0],
    ]);
    for (const t of plan) {
      expected.set(t.from, expected.get(t.from)! - t.amount);
      expected.set(t.to, expected.get(t.to)! + t.amount);
    }

    const ids = await Promise.all(plan.map((t) => ledger.transfer(t)));

    expect(new Set(ids).size).toBe(plan.length);
    const balances = await ledger.balances();
    expect(balances).toEqual(expected);
    expect(total(balances)).toBe(300);
    expect(await ledger.transferCount()).toBe(plan.length);
    // One SQLite connection: the sessions queue, nothing conflicts, nothing is retried.
    expect(ledger.attempts).toBe(plan.length);
  });
});

describe('overdraft', () => {
  it('is rejected by the CHECK constraint and rolled back', async () => {
    const before = await ledger.balances();
    const error = await ledger.transfer({ from: 3, to: 1, amount: 101 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckViolationError);
    expect((error as CheckViolationError).constraint).toBe(CONSTRAINTS.balanceNonNegative);
    expect((error as CheckViolationError).retryable).toBe(false);
    expect(await ledger.balances()).toEqual(before);
    expect(await ledger.transferCount()).toBe(0);
    expect(ledger.attempts).toBe(1); // not retryable: run once
  });

  it('spending exactly the balance is allowed', async () => {
    await ledger.transfer({ from: 3, to: 1, amount: 100 });
    expect((await ledger.balances()).get(3)).toBe(0);
  });
});

describe('duplicate account', () => {
  it('is rejected as UniqueViolationError naming the table', async () => {
    const error = await ledger.openAccounts([{ id: 5, owner: 'alice', balance: 0 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect((error as UniqueViolationError).table).toBe('ledger_account');
    expect(await ledger.accountCount()).toBe(4);
  });

  it('rolls back the whole batch it was part of', async () => {
    const error = await ledger
      .openAccounts([
        { id: 5, owner: 'dave', balance: 10 },
        { id: 6, owner: 'bob', balance: 10 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(await ledger.accountCount()).toBe(4);
  });
});

describe('transfer with a fee in a savepoint', () => {
  it('charges the fee when it fits', async () => {
    const outcome = await ledger.transferWithFee({ from: 2, to: 3, amount: 10 }, { from: 2, to: 4, amount: 1 });
    expect(outcome.feeCharged).toBe(true);
    expect(outcome.feeError).toBeUndefined();
    expect(await ledger.balances()).toEqual(
      new Map([
        [1, 100],
        [2, 89],
        [3, 110],
        [4, 1],
      ]),
    );
    expect(await ledger.transferCount()).toBe(2);
  });

  it('rolls back only the fee when it would overdraw, and commits the transfer', async () => {
    const outcome = await ledger.transferWithFee({ from: 3, to: 1, amount: 98 }, { from: 3, to: 4, amount: 5 });
    expect(outcome.feeCharged).toBe(false);
    expect(outcome.feeError).toBeInstanceOf(CheckViolationError);
    expect(await ledger.balances()).toEqual(
      new Map([
        [1, 198],
        [2, 100],
        [3, 2],
        [4, 0],
      ]),
    );
    expect(await ledger.transferCount()).toBe(1); // the fee's transfer row went with its savepoint
  });

  it('rolls back everything on an error it does not expect', async () => {
    const error = await ledger
      .transferWithFee({ from: 1, to: 2, amount: 10 }, { from: 1, to: 99, amount: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForeignKeyViolationError);
    expect(total(await ledger.balances())).toBe(300);
    expect((await ledger.balances()).get(1)).toBe(100);
    expect(await ledger.transferCount()).toBe(0);
  });
});

describe('hooks', () => {
  it('hand out the receipt only after COMMIT', async () => {
    const timeline: string[] = [];
    const off = sf.on('commit', ({ sessionId }) => timeline.push(`commit ${sessionId}`));
    const receipts: Receipt[] = [];
    try {
      const id = await ledger.transfer(
        { from: 1, to: 2, amount: 7 },
        {
          committed: (r) => {
            receipts.push(r);
            timeline.push(`receipt ${r.sessionId}`);
          },
          rolledBack: () => timeline.push('rolled back'),
        },
      );
      expect(receipts).toEqual([{ from: 1, to: 2, amount: 7, transferId: id, sessionId: expect.any(String) }]);
      expect(timeline).toEqual([`commit ${receipts[0]!.sessionId}`, `receipt ${receipts[0]!.sessionId}`]);
    } finally {
      off();
    }
  });

  it('run onRollback, and no receipt, when the transfer fails', async () => {
    const seen: string[] = [];
    const error = await ledger
      .transfer(
        { from: 1, to: 2, amount: 0 },
        { committed: () => seen.push('receipt'), rolledBack: (r) => seen.push(`rolled back #${r.transferId}`) },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckViolationError);
    expect((error as CheckViolationError).constraint).toBe(CONSTRAINTS.amountPositive);
    expect(seen).toEqual([expect.stringMatching(/^rolled back #\d+$/)]);
    expect(total(await ledger.balances())).toBe(300);
  });
});

describe('sync report', () => {
  it('reads the balances synchronously and totals them', async () => {
    await ledger.transfer({ from: 1, to: 3, amount: 40 });
    const rows = balanceReport(sf);
    expect(rows).toEqual([
      { id: 1, owner: 'alice', balance: 60 },
      { id: 2, owner: 'bob', balance: 100 },
      { id: 3, owner: 'carol', balance: 140 },
      { id: 4, owner: 'fees', balance: 0 },
    ]);
    const lines = formatReport(rows);
    expect(lines[0]).toMatch(/^owner\s+balance$/);
    expect(lines.at(-1)).toMatch(/^total\s+300$/);
  });

  it('runs read-only', () => {
    const error = (() => {
      try {
        return sf.syncSession((tx) => tx.run(tx.db.deleteFrom('ledger_transfer')), { readOnly: true });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ReadOnlyViolationError);
  });
});

describe('pool', () => {
  it('leaves nothing checked out after the steps', () => {
    const stats = sf.stats();
    expect(stats.inUse).toBe(0);
    expect(stats.waiting).toBe(0);
    expect(stats.timeouts).toBe(0);
  });
});
