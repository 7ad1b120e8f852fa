// The one-engine rules on paths that drifted before: cancels that only hit their own statement,
// savepoint hooks that open scopes, ended scopes that count as no scope, sync sessions from
// sync hooks, caught transaction-ending errors in sync scopes, unknown commit outcomes,
// adapter capabilities backed by methods.
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ConnectionError,
  createSessionFactory,
  type SessionFactoryError,
  TransactionTimeoutError,
} from '../src/index.js';
import { fakeAdapter } from '../src/testing/index.js';
import {
  BEGIN,
  COMMIT,
  gate,
  harness,
  INSERT,
  ids,
  insert,
  MARK,
  mark,
  ROLLBACK,
  rejection,
  SAVEPOINT,
  sleep,
  thrown,
} from './support/harness.js';

describe('cancel', () => {
  it('a cancel that lands late never hits the next session: the connection waits for it', async () => {
    const inner = fakeAdapter();
    const landed: string[] = [];
    const slowCancel = {
      ...inner,
      cancel: async (connection: Parameters<NonNullable<typeof inner.cancel>>[0]) => {
        await sleep(150);
        landed.push('cancel');
        await inner.cancel!(connection);
      },
    };
    const { adapter, sf } = await harness({ pool: { size: 1, maxOverflow: 0 } }, undefined, slowCancel as never);
    // The first session's statement outlives its deadline but ends on its own before the cancel lands.
    adapter.fail({ match: MARK('a'), delayMs: 60 });
    adapter.fail({ match: MARK('b'), delayMs: 300 });
    const first = sf.session((tx) => mark(tx, 'a'), { timeoutMs: 20 });
    const second = sf.session(async (tx) => {
      landed.push('second begins');
      await mark(tx, 'b');
    });
    expect(await rejection(first)).toBeInstanceOf(TransactionTimeoutError);
    await second; // before the fix: StatementTimeoutError, the cancel meant for the first session
    expect(landed).toEqual(['cancel', 'second begins']);
    expect(adapter.statements).toEqual([BEGIN, MARK('a'), ROLLBACK, BEGIN, MARK('b'), COMMIT]);
  });
});

describe('hooks and ended scopes', () => {
  it("a savepoint's onRollback hook may open a nested scope (no deadlock on the parent's lock)", async () => {
    const { adapter, sf } = await harness();
    const nested = await sf.session(async (tx) => {
      let hookDone: Promise<void> | undefined;
      await tx
        .savepoint(async (sp) => {
          sp.onRollback(() => {
            hookDone = sf.session((inner) => insert(inner, 2), { propagation: 'nested' });
            return hookDone;
          });
          throw new Error('undo');
        })
        .catch(() => {});
      await hookDone;
      return 'done';
    });
    expect(nested).toBe('done');
    expect(adapter.statements).toContain(SAVEPOINT(2));
    expect(await ids(sf)).toEqual([2]);
  });

  it('work scheduled in a session that runs after it ended sees no session', async () => {
    const { sf } = await harness();
    const later = gate();
    let results: unknown[] = [];
    await sf.session(async (tx) => {
      await insert(tx, 1);
      setTimeout(async () => {
        const current = sf.current();
        const rows = await sf.db.selectFrom('t').select('id').execute();
        const fresh = await sf.session(async (inner) => {
          await insert(inner, 2);
          return inner.info.id;
        });
        results = [current, rows.length, fresh];
        later.open();
      }, 20);
    });
    await later.promise;
    expect(results[0]).toBeUndefined();
    expect(results[1]).toBe(1);
    expect(results[2]).toMatch(/^s\d+$/);
    expect(await ids(sf)).toEqual([1, 2]);
  });

  it('a sync session started from a sync onCommit hook runs (the ended scope is no longer ambient)', async () => {
    const { sf } = await harness();
    let inner: unknown;
    sf.syncSession((tx) => {
      tx.run(tx.db.insertInto('t').values({ id: 1 }));
      tx.onCommit(() => {
        inner = sf.syncSession((next) => {
          next.run(next.db.insertInto('t').values({ id: 2 }));
          return next.info.depth;
        });
      });
    });
    expect(inner).toBe(0);
    expect(await ids(sf)).toEqual([1, 2]);
  });
});

describe('transaction-ending errors a function catches', () => {
  it('a sync session that swallows a lost connection does not commit', async () => {
    const { adapter, sf } = await harness();
    const commits: string[] = [];
    let onCommitRan = false;
    sf.on('commit', ({ sessionId }) => commits.push(sessionId));
    adapter.fail({ match: MARK('lost'), breakConnection: true });
    const error = thrown(() =>
      sf.syncSession((tx) => {
        tx.run(tx.db.insertInto('t').values({ id: 1 }));
        tx.onCommit(() => {
          onCommitRan = true;
        });
        try {
          tx.run({ sql: MARK('lost'), parameters: [], query: undefined as never, queryId: undefined as never });
        } catch {
          // swallowed
        }
      }),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(commits).toEqual([]);
    expect(onCommitRan).toBe(false);
    expect(adapter.statements).not.toContain(COMMIT);
    expect(await ids(sf)).toEqual([]);
  });

  it('a connection lost during COMMIT: outcome unknown, said in the error, never retried', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: COMMIT, breakConnection: true });
    let runs = 0;
    const error = await rejection(
      sf.session(
        async (tx) => {
          runs++;
          await insert(tx, 1);
        },
        { retry: 3 },
      ),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as SessionFactoryError).commitOutcomeUnknown).toBe(true);
    expect((error as Error).message).toMatch(/may or may not have been committed/);
    expect(runs).toBe(1);
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
  });
});

describe('adapter capabilities', () => {
  it('a capability the adapter has no method for is a ConfigurationError naming the gap', () => {
    const adapter = fakeAdapter();
    try {
      const noCancel = { ...adapter, cancel: undefined };
      const noSync = { ...adapter, connectSync: undefined };
      const worker = { ...adapter, capabilities: { ...adapter.capabilities, sync: 'worker' as const } };
      expect(() => createSessionFactory(noCancel)).toThrow(/cancel: true without cancel\(\)/);
      expect(() => createSessionFactory(noSync)).toThrow(/sync: 'native' without connectSync\(\)/);
      expect(() => createSessionFactory(worker)).toThrow(ConfigurationError);
    } finally {
      adapter.dispose();
    }
  });
});
