import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckViolationError, createSessionFactory, type SessionFactory } from '@sessionfactory/core';
import { rollbackEachTest, withRollback } from '@sessionfactory/core/testing';
import { sqlite } from '@sessionfactory/sqlite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, type Receipt } from '../src/ledger.js';
import { balanceReport } from '../src/report.js';
import { createSchema, type LedgerDB } from '../src/schema.js';

// The ledger's tests written the way an application's would be with rollback per test: the
// schema and the opening balances are committed once; every test runs the ledger's own code
// (its sessions, savepoints, hooks and sync report unchanged) inside a transaction that is
// rolled back afterwards, so each test starts from the same balances without rebuilding them.
const dir = mkdtempSync(join(tmpdir(), 'ledger-rollback-test-'));
let sf: SessionFactory<LedgerDB>;
let ledger: Ledger;
const OPENING = new Map([
  [1, 100],
  [2, 100],
  [3, 100],
  [4, 0],
]);

beforeAll(async () => {
  sf = createSessionFactory<LedgerDB>(sqlite(join(dir, 'ledger.db')));
  await createSchema(sf);
  ledger = new Ledger(sf);
  await ledger.openAccounts([
    { id: 1, owner: 'alice', balance: 100 },
    { id: 2, owner: 'bob', balance: 100 },
    { id: 3, owner: 'carol', balance: 100 },
    { id: 4, owner: 'fees', balance: 0 },
  ]);
});

afterAll(async () => {
  await sf.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('with withRollback(sf, fn)', () => {
  it('a transfer moves the money inside the test', () =>
    withRollback(sf, async () => {
      await ledger.transfer({ from: 1, to: 2, amount: 30 });
      expect((await ledger.balances()).get(1)).toBe(70);
      expect(await ledger.transferCount()).toBe(1);
    }));

  it('the next test finds the opening balances again', async () => {
    expect(await ledger.balances()).toEqual(OPENING);
    expect(await ledger.transferCount()).toBe(0);
  });

  it('an overdraft rolls back only its own session; the receipt of a good one arrives', () =>
    withRollback(sf, async () => {
      const receipts: Receipt[] = [];
      await ledger.transfer({ from: 1, to: 2, amount: 10 }, { committed: (r) => receipts.push(r) });
      // The hook ran when the transfer's savepoint was released, before the test goes on.
      expect(receipts).toHaveLength(1);
      const error = await ledger.transfer({ from: 3, to: 1, amount: 101 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckViolationError);
      expect(await ledger.balances()).toEqual(
        new Map([
          [1, 90],
          [2, 110],
          [3, 100],
          [4, 0],
        ]),
      );
    }));

  it('a fee that would overdraw is waived by its savepoint; the sync report sees the test data', () =>
    withRollback(sf, async () => {
      const outcome = await ledger.transferWithFee({ from: 3, to: 1, amount: 98 }, { from: 3, to: 4, amount: 5 });
      expect(outcome.feeCharged).toBe(false);
      expect(balanceReport(sf).map((row) => row.balance)).toEqual([198, 100, 2, 0]);
    }));

  it('nothing of the tests above was committed', async () => {
    expect(await ledger.balances()).toEqual(OPENING);
    expect(await ledger.transferCount()).toBe(0);
    expect(sf.stats().inUse).toBe(0);
  });
});

describe('with rollbackEachTest(sf) in beforeEach/afterEach', () => {
  let rb: ReturnType<typeof rollbackEachTest>;
  beforeEach(async () => {
    rb = rollbackEachTest(sf);
    await rb.begin();
  });
  afterEach(() => rb.rollback());

  it('a transfer in the test body runs in the transaction the hook began', async () => {
    await ledger.transfer({ from: 2, to: 3, amount: 50 });
    expect((await ledger.balances()).get(3)).toBe(150);
  });

  it('and is gone in the next test', async () => {
    expect(await ledger.balances()).toEqual(OPENING);
  });
});
