import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  DatabaseError,
  type Session,
  SessionClosedError,
  TransactionTimeoutError,
  UnexpectedRollbackError,
  UnsupportedFeatureError,
} from '../src/index.js';
import {
  BEGIN,
  COMMIT,
  type DB,
  harness,
  INSERT,
  ids,
  insert,
  MARK,
  mark,
  RELEASE,
  ROLLBACK,
  ROLLBACK_TO,
  rejection,
  SAVEPOINT,
} from './support/harness.js';

describe('savepoint names', () => {
  it('come from a per-transaction counter: sp_1, sp_2, ... and restart in the next transaction', async () => {
    const { adapter, sf } = await harness();
    await sf.session(async (tx) => {
      await tx.savepoint(async (sp) => {
        await sp.savepoint(async () => {});
      });
      await tx.savepoint(async () => {});
    });
    await sf.session(async (tx) => {
      await tx.savepoint(async () => {});
    });
    expect(adapter.statements).toEqual([
      BEGIN,
      SAVEPOINT(1),
      SAVEPOINT(2),
      RELEASE(2),
      RELEASE(1),
      SAVEPOINT(3),
      RELEASE(3),
      COMMIT,
      BEGIN,
      SAVEPOINT(1),
      RELEASE(1),
      COMMIT,
    ]);
  });

  it('do not take user input: the scope id is the only place the name shows', async () => {
    const { sf } = await harness();
    const id = await sf.session((tx) => tx.savepoint(async (sp) => sp.info.id));
    expect(id).toBe('s1.sp_1');
  });
});

describe('sibling savepoints', () => {
  it('run one after another under Promise.all, in the order they were started', async () => {
    const { adapter, sf } = await harness();
    await sf.session(async (tx) => {
      // The first sibling's first statement is slow: without serialization the others would overtake it.
      adapter.fail({ match: MARK('a1'), delayMs: 40 });
      await Promise.all([
        tx.savepoint(async (sp) => {
          await mark(sp, 'a1');
          await mark(sp, 'a2');
        }),
        tx.savepoint(async (sp) => {
          await mark(sp, 'b1');
        }),
        sf.session((sp) => mark(sp, 'c1'), { propagation: 'nested' }),
      ]);
    });
    expect(adapter.statements).toEqual([
      BEGIN,
      SAVEPOINT(1),
      MARK('a1'),
      MARK('a2'),
      RELEASE(1),
      SAVEPOINT(2),
      MARK('b1'),
      RELEASE(2),
      SAVEPOINT(3),
      MARK('c1'),
      RELEASE(3),
      COMMIT,
    ]);
  });

  it('a failing sibling rolls back to its own savepoint; the next sibling still runs', async () => {
    const { adapter, sf } = await harness();
    await sf.session(async (tx) => {
      const results = await Promise.allSettled([
        tx.savepoint(async (sp) => {
          await insert(sp, 1);
          throw new Error('first fails');
        }),
        tx.savepoint((sp) => insert(sp, 2)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    });
    expect(adapter.statements).toEqual([
      BEGIN,
      SAVEPOINT(1),
      INSERT,
      ROLLBACK_TO(1),
      SAVEPOINT(2),
      INSERT,
      RELEASE(2),
      COMMIT,
    ]);
    expect(await ids(sf)).toEqual([2]);
  });
});

describe('savepoint failures', () => {
  it('an uncaught savepoint error rolls back to the savepoint, then the whole session', async () => {
    const { adapter, sf } = await harness();
    const error = await rejection(
      sf.session(async (tx) => {
        await insert(tx, 1);
        await tx.savepoint(async () => {
          throw new Error('inner');
        });
      }),
    );
    expect(error.message).toBe('inner');
    expect(adapter.statements).toEqual([BEGIN, INSERT, SAVEPOINT(1), ROLLBACK_TO(1), ROLLBACK]);
    expect(await ids(sf)).toEqual([]);
  });

  it('a joined scope that throws inside a savepoint marks only the savepoint rollback-only', async () => {
    const { adapter, sf } = await harness();
    await sf.session(async (tx) => {
      await insert(tx, 1);
      const error = await rejection(
        tx.savepoint(async (sp) => {
          await insert(sp, 2);
          // The joined scope fails, and the savepoint's function swallows the error.
          await sf
            .session(async () => {
              throw new Error('joined fails');
            })
            .catch(() => {});
        }),
      );
      expect(error).toBeInstanceOf(UnexpectedRollbackError);
      await insert(tx, 3);
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, SAVEPOINT(1), INSERT, ROLLBACK_TO(1), INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([1, 3]);
  });

  it('a failed ROLLBACK TO SAVEPOINT keeps the original error, marks the session rollback-only and destroys the connection', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: ROLLBACK_TO(1), error: 'DATABASE' });
    let inner: unknown;
    const error = await rejection(
      sf.session(async (tx) => {
        await insert(tx, 1);
        inner = await rejection(
          tx.savepoint(async () => {
            throw new Error('inner');
          }),
        );
      }),
    );
    expect((inner as Error).message).toBe('inner');
    expect((inner as { suppressed: unknown[] }).suppressed).toEqual([expect.any(DatabaseError)]);
    expect(error).toBeInstanceOf(UnexpectedRollbackError);
    // The connection is in an unknown state: no COMMIT, no ROLLBACK on it, it is destroyed.
    expect(adapter.statements).toEqual([BEGIN, INSERT, SAVEPOINT(1), ROLLBACK_TO(1)]);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0 });
    expect(await ids(sf)).toEqual([]);
  });

  it('a failed RELEASE rolls back to the savepoint and rethrows', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: RELEASE(1), error: 'DATABASE' });
    await sf.session(async (tx) => {
      const error = await rejection(tx.savepoint((sp) => insert(sp, 2)));
      expect(error).toBeInstanceOf(DatabaseError);
      await insert(tx, 1);
    });
    expect(adapter.statements).toEqual([BEGIN, SAVEPOINT(1), INSERT, RELEASE(1), ROLLBACK_TO(1), INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([1]);
  });

  it('a connection lost at SAVEPOINT sends nothing more and is destroyed', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: SAVEPOINT(1), breakConnection: true });
    const error = await rejection(sf.session((tx) => tx.savepoint(async () => {})));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(adapter.statements).toEqual([BEGIN, SAVEPOINT(1)]);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0, open: 0 });
  });
});

describe('savepoint scopes', () => {
  it('the tx of a finished savepoint throws SessionClosedError', async () => {
    const { adapter, sf } = await harness();
    let leaked!: Session<DB>;
    await sf.session(async (tx) => {
      await tx.savepoint(async (sp) => {
        leaked = sp;
      });
      await expect(insert(leaked, 1)).rejects.toThrow(SessionClosedError);
      expect(() => leaked.onCommit(() => {})).toThrow(SessionClosedError);
      await expect(leaked.savepoint(async () => {})).rejects.toThrow(SessionClosedError);
    });
    expect(adapter.statements).toEqual([BEGIN, SAVEPOINT(1), RELEASE(1), COMMIT]);
  });

  it('are refused with UnsupportedFeatureError when the adapter has no savepoints', async () => {
    const { adapter, sf } = await harness(undefined, { capabilities: { savepoints: false } });
    await sf.session(async (tx) => {
      await expect(tx.savepoint(async () => {})).rejects.toThrow(UnsupportedFeatureError);
      await expect(sf.session(async () => {}, { propagation: 'nested' })).rejects.toThrow(UnsupportedFeatureError);
    });
    expect(adapter.statements).toEqual([BEGIN, COMMIT]);
  });

  it('an outer tx used for a savepoint from inside its own savepoint fails fast instead of waiting for the deadline', async () => {
    const { sf } = await harness();
    // A common slip: `tx` instead of `sp` inside the savepoint. The inner call waits for the
    // outer savepoint, which waits for the inner call.
    const outcome = await sf
      .session(
        (tx) =>
          tx.savepoint(async () => {
            await tx.savepoint(async () => {});
          }),
        { timeoutMs: 300 },
      )
      .then(
        () => 'resolved',
        (error: unknown) => error,
      );
    expect(outcome).not.toBeInstanceOf(TransactionTimeoutError);
  });
});
