// The exact statement sequences the conformance suite's key cases produce, asserted through
// the statement-recording fake adapter (the only adapter that can show them). Each test runs
// the same scenario as its suite case, on a fresh fake database, and compares
// `adapter.statements` (every statement of every connection, in order) with the expected list.
import {
  createSessionFactory,
  type FactoryOptions,
  type SessionFactory,
  TransactionTimeoutError,
  UnexpectedRollbackError,
} from '@sessionfactory/core';
import { type FakeAdapter, fakeAdapter } from '@sessionfactory/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { delay, rejectionOf } from '../src/suite/async-helpers.js';
import { type ConformanceDB, createConformanceSchema } from '../src/suite/conformance-schema.js';
import { type AccountRow, ALICE, BOB, CAROL, DAVE } from '../src/suite/fixtures.js';
import { runRaw } from '../src/suite/raw-queries.js';
import { accountIds, balanceOf, readAccounts, seedAccounts } from '../src/suite/table-readers.js';
import { fakeSleep, withFakePoolDefaults } from './fake-conformance-setup.js';

// The fake's dialect statements.
const BEGIN = 'BEGIN READ WRITE';
const BEGIN_READ_ONLY = 'BEGIN READ ONLY';
const COMMIT = 'COMMIT';
const ROLLBACK = 'ROLLBACK';
const SAVEPOINT = (n: number) => `SAVEPOINT sp_${n}`;
const RELEASE = (n: number) => `RELEASE SAVEPOINT sp_${n}`;
const ROLLBACK_TO = (n: number) => `ROLLBACK TO SAVEPOINT sp_${n}`;

// What Kysely's SQLite compiler makes of the suite's queries.
const INSERT_ACCOUNT = 'insert into "account" ("id", "owner", "balance") values (?, ?, ?)';
const SELECT_ACCOUNTS = 'select "id", "owner", "balance" from "account" order by "id"';
const INSERT_LOG = 'insert into "event_log" ("id", "label") values (?, ?)';
const SELECT_BALANCE = 'select "balance" from "account" where "id" = ?';
const SET_BALANCE = 'update "account" set "balance" = ? where "id" = ?';
const SUBTRACT_BALANCE = 'update "account" set "balance" = "balance" - ? where "id" = ?';

interface Run {
  readonly adapter: FakeAdapter;
  readonly sf: SessionFactory<ConformanceDB>;
}

const runs: Run[] = [];

afterEach(async () => {
  for (const { adapter, sf } of runs.splice(0)) {
    await sf.close({ timeoutMs: 2_000 });
    adapter.dispose();
  }
});

/**
 * A factory on a fresh fake database with the suite's schema (and `seed` rows, if any), with
 * the conformance run's pool defaults; the statements of that set-up are forgotten.
 */
async function fresh(options?: FactoryOptions, seed?: readonly AccountRow[]): Promise<Run> {
  const adapter = fakeAdapter();
  const sf = createSessionFactory<ConformanceDB>(adapter, withFakePoolDefaults(options));
  runs.push({ adapter, sf });
  await sf.connection((db) => createConformanceSchema(db));
  if (seed) await seedAccounts(sf.db, seed);
  adapter.reset();
  return { adapter, sf };
}

/** What ran so far, then forgets it (so reading the result back is not part of the sequence). */
function taken(adapter: FakeAdapter): string[] {
  const statements = [...adapter.statements];
  adapter.reset();
  return statements;
}

describe('fake adapter: exact statements of the conformance scenarios', () => {
  it('commit: BEGIN, the work, COMMIT', async () => {
    const { adapter, sf } = await fresh();
    const result = await sf.session(async (tx) => {
      await tx.insertInto('account').values(ALICE).execute();
      expect(await accountIds(tx)).toEqual([1]);
      return 'done';
    });
    expect(result).toBe('done');
    expect(taken(adapter)).toEqual([BEGIN, INSERT_ACCOUNT, SELECT_ACCOUNTS, COMMIT]);
    expect(await readAccounts(sf.db)).toEqual([ALICE]);
  });

  it('rollback on throw (an Error and a non-Error value): ROLLBACK, never COMMIT', async () => {
    const { adapter, sf } = await fresh();
    const boom = new Error('boom');
    expect(
      await rejectionOf(
        sf.session(async (tx) => {
          await tx.insertInto('account').values(ALICE).execute();
          throw boom;
        }),
      ),
    ).toBe(boom);
    expect(
      await rejectionOf(
        sf.session(async (tx) => {
          await tx.insertInto('account').values(ALICE).execute();
          throw 'a plain string';
        }),
      ),
    ).toBe('a plain string');
    expect(taken(adapter)).toEqual([BEGIN, INSERT_ACCOUNT, ROLLBACK, BEGIN, INSERT_ACCOUNT, ROLLBACK]);
    expect(await accountIds(sf.db)).toEqual([]);
  });

  const openers = [
    { label: 'tx.savepoint', nested: false },
    { label: "propagation: 'nested'", nested: true },
  ] as const;

  for (const { label, nested } of openers) {
    it(`${label}: a rolled-back savepoint keeps the outer work (ROLLBACK TO), a released one keeps its own (RELEASE)`, async () => {
      const { adapter, sf } = await fresh();
      type Tx = Parameters<Parameters<typeof sf.session>[0]>[0];
      const open = (tx: Tx, fn: (scope: Tx) => Promise<void>) =>
        nested ? sf.session(fn, { propagation: 'nested' }) : tx.savepoint(fn);
      const failure = new Error('savepoint failure');
      await sf.session(async (tx) => {
        await tx.insertInto('account').values(ALICE).execute();
        const error = await rejectionOf(
          open(tx, async (scope) => {
            await scope.insertInto('account').values(BOB).execute();
            expect(await accountIds(scope)).toEqual([1, 2]);
            throw failure;
          }),
        );
        expect(error).toBe(failure);
        expect(await accountIds(tx)).toEqual([1]);
        await tx.insertInto('account').values(CAROL).execute();
        await open(tx, async (scope) => {
          await scope.insertInto('account').values(DAVE).execute();
        });
      });
      expect(taken(adapter)).toEqual([
        BEGIN,
        INSERT_ACCOUNT,
        SAVEPOINT(1),
        INSERT_ACCOUNT,
        SELECT_ACCOUNTS,
        ROLLBACK_TO(1),
        SELECT_ACCOUNTS,
        INSERT_ACCOUNT,
        SAVEPOINT(2),
        INSERT_ACCOUNT,
        RELEASE(2),
        COMMIT,
      ]);
      expect(await accountIds(sf.db)).toEqual([1, 3, 4]);
    });

    it(`${label}: sibling scopes started together run one after another (the second SAVEPOINT after the first RELEASE)`, async () => {
      const { adapter, sf } = await fresh({ logParameters: true });
      type Tx = Parameters<Parameters<typeof sf.session>[0]>[0];
      const open = (tx: Tx, fn: (scope: Tx) => Promise<void>) =>
        nested ? sf.session(fn, { propagation: 'nested' }) : tx.savepoint(fn);
      const labels: unknown[] = [];
      sf.on('query', (event) => {
        if (event.sql === INSERT_LOG) labels.push(event.parameters?.[1]);
      });
      let nextId = 0;
      const scope = (name: string) => async (tx: Tx) => {
        await tx
          .insertInto('event_log')
          .values({ id: ++nextId, label: `${name}1` })
          .execute();
        await delay(40);
        await tx
          .insertInto('event_log')
          .values({ id: ++nextId, label: `${name}2` })
          .execute();
      };
      await sf.session(async (tx) => {
        await Promise.all([open(tx, scope('a')), open(tx, scope('b'))]);
      });
      expect(taken(adapter)).toEqual([
        BEGIN,
        SAVEPOINT(1),
        INSERT_LOG,
        INSERT_LOG,
        RELEASE(1),
        SAVEPOINT(2),
        INSERT_LOG,
        INSERT_LOG,
        RELEASE(2),
        COMMIT,
      ]);
      expect(labels).toEqual(['a1', 'a2', 'b1', 'b2']);
    });
  }

  it('a failed joined scope: no savepoint, and ROLLBACK instead of COMMIT (rollback-only)', async () => {
    const { adapter, sf } = await fresh();
    const innerFailure = new Error('inner failure');
    const error = await rejectionOf(
      sf.session(async (tx) => {
        await tx.insertInto('account').values(ALICE).execute();
        const caught = await rejectionOf(
          sf.session(
            async (inner) => {
              await inner.insertInto('account').values(BOB).execute();
              throw innerFailure;
            },
            { propagation: 'required' },
          ),
        );
        expect(caught).toBe(innerFailure);
        return 'outer finished';
      }),
    );
    expect(error).toBeInstanceOf(UnexpectedRollbackError);
    expect(taken(adapter)).toEqual([BEGIN, INSERT_ACCOUNT, INSERT_ACCOUNT, ROLLBACK]);
    expect(await accountIds(sf.db)).toEqual([]);
  });

  it('read-only: BEGIN READ ONLY, the rejected write, ROLLBACK; the same connection then begins READ WRITE', async () => {
    const { adapter, sf } = await fresh(undefined, [ALICE, BOB]);
    await rejectionOf(
      sf.session(
        async (tx) => {
          expect(await accountIds(tx)).toEqual([1, 2]);
          await tx.updateTable('account').set({ balance: 0 }).where('id', '=', 1).execute();
        },
        { readOnly: true },
      ),
    );
    await sf.session((tx) => tx.updateTable('account').set({ balance: 50 }).where('id', '=', 1).execute());
    expect(taken(adapter)).toEqual([
      BEGIN_READ_ONLY,
      SELECT_ACCOUNTS,
      SET_BALANCE,
      ROLLBACK,
      BEGIN,
      SET_BALANCE,
      COMMIT,
    ]);
    expect(adapter.connections).toHaveLength(1);
    expect(await balanceOf(sf.db, 1)).toBe(50);
  });

  it('isolation: BEGIN names the level capabilities.isolation maps the request to', async () => {
    const { adapter, sf } = await fresh();
    await sf.session((tx) => accountIds(tx), { isolation: 'repeatable read' });
    await sf.session((tx) => accountIds(tx), { isolation: 'serializable', readOnly: true });
    expect(taken(adapter)).toEqual([
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE',
      SELECT_ACCOUNTS,
      COMMIT,
      'BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY',
      SELECT_ACCOUNTS,
      COMMIT,
    ]);
  });

  it('retry after a real serialization failure: the failed attempt rolls back, the next one commits', async () => {
    const { adapter, sf } = await fresh({ pool: { size: 2 } }, [ALICE, BOB]);
    let attempts = 0;
    const seen = await sf.session(
      async (tx) => {
        attempts += 1;
        const before = await balanceOf(tx, 1);
        if (attempts === 1) {
          await sf.session((w) => w.updateTable('account').set({ balance: 50 }).where('id', '=', 1).execute(), {
            propagation: 'requiresNew',
          });
        }
        await tx
          .updateTable('account')
          .set((eb) => ({ balance: eb('balance', '-', 10) }))
          .where('id', '=', 1)
          .execute();
        return before;
      },
      { isolation: 'serializable', retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } },
    );
    expect(seen).toBe(50);
    const serializable = 'BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE';
    expect(taken(adapter)).toEqual([
      serializable,
      SELECT_BALANCE,
      BEGIN, // requiresNew, on the second connection
      SET_BALANCE,
      COMMIT,
      SUBTRACT_BALANCE, // SQLITE_BUSY_SNAPSHOT: SerializationFailureError
      ROLLBACK,
      serializable,
      SELECT_BALANCE,
      SUBTRACT_BALANCE,
      COMMIT,
    ]);
    expect(await balanceOf(sf.db, 1)).toBe(40);
  });

  it('a deadline cancels the long statement: ROLLBACK right after it, and the next session reuses the connection', async () => {
    const { adapter, sf } = await fresh();
    const sleepSql = fakeSleep(adapter)(5);
    const error = await rejectionOf(
      sf.session(
        async (tx) => {
          await tx.insertInto('account').values(ALICE).execute();
          await runRaw(tx, sleepSql);
        },
        { timeoutMs: 300 },
      ),
    );
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    await sf.session((tx) => accountIds(tx));
    expect(taken(adapter)).toEqual([BEGIN, INSERT_ACCOUNT, sleepSql, ROLLBACK, BEGIN, SELECT_ACCOUNTS, COMMIT]);
    expect(adapter.connections).toHaveLength(1);
  });
});
