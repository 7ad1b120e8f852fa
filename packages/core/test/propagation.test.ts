import { describe, expect, it } from 'vitest';
import type { Session } from '../src/index.js';
import { PoolTimeoutError, PropagationError } from '../src/index.js';
import {
  BEGIN,
  BEGIN_RO,
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
  recordQueries,
  rejection,
  SAVEPOINT,
  SELECT,
} from './support/harness.js';

describe('propagation outside a session', () => {
  it.each(['required', 'requiresNew', 'nested'] as const)('%s starts a transaction', async (propagation) => {
    const { adapter, sf } = await harness();
    const info = await sf.session(
      async (tx) => {
        await insert(tx, 1);
        return tx.info;
      },
      { propagation },
    );
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    expect(info).toMatchObject({ depth: 0, transactional: true });
    expect(await ids(sf)).toEqual([1]);
  });

  it('mandatory throws PropagationError and runs nothing', async () => {
    const { adapter, sf } = await harness();
    let called = false;
    const error = await rejection(
      sf.session(
        async () => {
          called = true;
        },
        { propagation: 'mandatory' },
      ),
    );
    expect(error).toBeInstanceOf(PropagationError);
    expect(error.message).toMatch(/mandatory/);
    expect(called).toBe(false);
    expect(adapter.statements).toEqual([]);
  });

  it.each(['never', 'supports', 'notSupported'] as const)('%s runs without a transaction (autocommit)', async (p) => {
    const { adapter, sf } = await harness();
    const queries = recordQueries(sf);
    const seen = await sf.session(
      async (tx) => {
        await insert(tx, 1);
        return { info: tx.info, current: sf.current(), isTransaction: tx.isTransaction };
      },
      { propagation: p },
    );
    expect(adapter.statements).toEqual([INSERT]);
    expect(seen.isTransaction).toBe(false);
    expect(queries[0]?.sessionId).toBeUndefined();
    expect(seen.info.transactional).toBe(false);
    expect(seen.current).toBeUndefined();
    expect(await ids(sf)).toEqual([1]);
  });

  it('a scope without a transaction refuses tx.savepoint()', async () => {
    const { adapter, sf } = await harness();
    const error = await rejection(sf.session((tx) => tx.savepoint(async () => {}), { propagation: 'supports' }));
    expect(error).toBeInstanceOf(PropagationError);
    expect(adapter.statements).toEqual([]);
  });

  it('an unknown propagation is a PropagationError naming the known ones', async () => {
    const { adapter, sf } = await harness();
    const error = await rejection(sf.session(async () => {}, { propagation: 'sometimes' as never }));
    expect(error).toBeInstanceOf(PropagationError);
    expect(error.message).toContain('requiresNew');
    expect(adapter.statements).toEqual([]);
  });
});

describe('propagation inside a session', () => {
  it.each(['required', 'mandatory', 'supports'] as const)('%s joins: same tx, no second BEGIN', async (p) => {
    const { adapter, sf } = await harness();
    const queries = recordQueries(sf);
    await sf.session(async (outer) => {
      await insert(outer, 1);
      await sf.session(
        async (inner) => {
          expect(inner).toBe(outer);
          expect(sf.current()).toEqual(outer.info);
          await insert(inner, 2);
        },
        { propagation: p },
      );
      await insert(outer, 3);
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, INSERT, INSERT, COMMIT]);
    expect(new Set(queries.map((q) => q.connectionId)).size).toBe(1);
    expect(new Set(queries.map((q) => q.sessionId))).toEqual(new Set(['s1']));
    expect(await ids(sf)).toEqual([1, 2, 3]);
  });

  it('requiresNew opens a second transaction on another connection', async () => {
    const { adapter, sf } = await harness();
    const queries = recordQueries(sf);
    // The outer session is read-only: the fake stores data in SQLite, which has one writer.
    await sf.session(
      async (outer) => {
        await mark(outer, 'outer');
        await sf.session(
          async (inner) => {
            expect(inner.info.id).not.toBe(outer.info.id);
            expect(sf.current()?.id).toBe(inner.info.id);
            await insert(inner, 1);
          },
          { propagation: 'requiresNew' },
        );
        expect(sf.current()?.id).toBe(outer.info.id);
        await mark(outer, 'outer again');
      },
      { readOnly: true },
    );
    expect(adapter.statements).toEqual([BEGIN_RO, MARK('outer'), BEGIN, INSERT, COMMIT, MARK('outer again'), COMMIT]);
    const outerConnection = queries[0]!.connectionId;
    const innerConnection = queries[2]!.connectionId;
    expect(innerConnection).not.toBe(outerConnection);
    expect(queries.map((q) => q.connectionId)).toEqual([
      outerConnection,
      outerConnection,
      innerConnection,
      innerConnection,
      innerConnection,
      outerConnection,
      outerConnection,
    ]);
    expect(await ids(sf)).toEqual([1]);
  });

  it('requiresNew commits independently of an outer session that rolls back', async () => {
    const { adapter, sf } = await harness();
    const error = await rejection(
      sf.session(
        async () => {
          await sf.session((inner) => insert(inner, 1), { propagation: 'requiresNew' });
          throw new Error('outer fails');
        },
        { readOnly: true },
      ),
    );
    expect(error.message).toBe('outer fails');
    expect(adapter.statements).toEqual([BEGIN_RO, BEGIN, INSERT, COMMIT, ROLLBACK]);
    expect(await ids(sf)).toEqual([1]);
  });

  it('a failing requiresNew rolls back alone; the outer session still commits', async () => {
    const { adapter, sf } = await harness();
    await sf.session(
      async (outer) => {
        await sf
          .session(
            async (inner) => {
              await insert(inner, 1);
              throw new Error('inner fails');
            },
            { propagation: 'requiresNew' },
          )
          .catch(() => {});
        await mark(outer, 'after');
      },
      { readOnly: true },
    );
    expect(adapter.statements).toEqual([BEGIN_RO, BEGIN, INSERT, ROLLBACK, MARK('after'), COMMIT]);
    expect(await ids(sf)).toEqual([]);
  });

  it('requiresNew on an exhausted pool times out with the hint instead of hanging', async () => {
    const { sf } = await harness({ pool: { size: 1, maxOverflow: 0, timeoutMs: 50 } });
    const error = await rejection(
      sf.session(() => sf.session(async () => {}, { propagation: 'requiresNew' }), { readOnly: true }),
    );
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect(error.message).toMatch(/Hint/);
    expect(sf.stats().inUse).toBe(0);
  });

  it('nested runs in a savepoint that is released on success', async () => {
    const { adapter, sf } = await harness();
    await sf.session(async (outer) => {
      await insert(outer, 1);
      await sf.session(
        async (inner) => {
          expect(inner).not.toBe(outer);
          expect(inner.info).toMatchObject({ id: `${outer.info.id}.sp_1`, depth: 1, transactional: true });
          expect(inner.isTransaction).toBe(true);
          expect(sf.current()).toEqual(inner.info);
          await insert(inner, 2);
        },
        { propagation: 'nested' },
      );
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, SAVEPOINT(1), INSERT, RELEASE(1), COMMIT]);
    expect(await ids(sf)).toEqual([1, 2]);
  });

  it('a failing nested scope rolls back to its savepoint; the outer work is kept', async () => {
    const { adapter, sf } = await harness();
    await sf.session(async (outer) => {
      await insert(outer, 1);
      const error = await rejection(
        sf.session(
          async (inner) => {
            await insert(inner, 2);
            throw new Error('inner fails');
          },
          { propagation: 'nested' },
        ),
      );
      expect(error.message).toBe('inner fails');
      await insert(outer, 3);
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, SAVEPOINT(1), INSERT, ROLLBACK_TO(1), INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([1, 3]);
  });

  it('never inside a session throws PropagationError; the outer session is unaffected', async () => {
    const { adapter, sf } = await harness();
    let called = false;
    await sf.session(async (outer) => {
      const error = await rejection(
        sf.session(
          async () => {
            called = true;
          },
          { propagation: 'never' },
        ),
      );
      expect(error).toBeInstanceOf(PropagationError);
      expect(error.message).toContain(outer.info.id);
      await insert(outer, 1);
    });
    expect(called).toBe(false);
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([1]);
  });

  it('notSupported runs outside the transaction and does not see its uncommitted rows', async () => {
    const { adapter, sf } = await harness();
    const queries = recordQueries(sf);
    await sf.session(async (outer) => {
      await insert(outer, 1);
      const seen = await sf.session(
        async (inner) => {
          expect(inner.info.transactional).toBe(false);
          expect(sf.current()).toBeUndefined();
          const viaTx = await inner.selectFrom('t').selectAll().execute();
          const viaDb = await sf.db.selectFrom('t').selectAll().execute();
          return { viaTx, viaDb };
        },
        { propagation: 'notSupported' },
      );
      expect(seen).toEqual({ viaTx: [], viaDb: [] });
      expect(await outer.selectFrom('t').select('id').execute()).toEqual([{ id: 1 }]);
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, SELECT, SELECT, 'select "id" from "t"', COMMIT]);
    const sessionConnection = queries[0]!.connectionId;
    expect(queries[2]).toMatchObject({ sessionId: undefined });
    expect(queries[2]!.connectionId).not.toBe(sessionConnection);
    expect(queries[3]!.connectionId).not.toBe(sessionConnection);
    expect(await ids(sf)).toEqual([1]);
  });

  it('nests several levels: savepoints sp_1..sp_3 inside one transaction, released innermost first', async () => {
    const { adapter, sf } = await harness();
    const depths: number[] = [];
    await sf.session(async (tx0) => {
      depths.push(tx0.info.depth);
      await tx0.savepoint(async (tx1) => {
        depths.push(tx1.info.depth);
        await sf.session(
          async (tx2) => {
            depths.push(tx2.info.depth);
            await tx2.savepoint(async (tx3) => {
              depths.push(tx3.info.depth);
              expect(sf.current()?.id).toBe('s1.sp_3');
              // A required scope joins the innermost savepoint.
              await sf.session(async (joined) => {
                expect(joined).toBe(tx3);
                await insert(joined, 3);
              });
            });
            await insert(tx2, 2);
          },
          { propagation: 'nested' },
        );
        await insert(tx1, 1);
      });
    });
    expect(depths).toEqual([0, 1, 2, 3]);
    expect(adapter.statements).toEqual([
      BEGIN,
      SAVEPOINT(1),
      SAVEPOINT(2),
      SAVEPOINT(3),
      INSERT,
      RELEASE(3),
      INSERT,
      RELEASE(2),
      INSERT,
      RELEASE(1),
      COMMIT,
    ]);
    expect(await ids(sf)).toEqual([1, 2, 3]);
  });

  it('a failure three levels down undoes only that level', async () => {
    const { adapter, sf } = await harness();
    await sf.session(async (tx0) => {
      await insert(tx0, 1);
      await tx0.savepoint(async (tx1) => {
        await insert(tx1, 2);
        await tx1
          .savepoint(async (tx2) => {
            await insert(tx2, 3);
            await tx2.savepoint(async (tx3) => {
              await insert(tx3, 4);
            });
            throw new Error('level 2 fails');
          })
          .catch(() => {});
      });
    });
    expect(adapter.statements).toEqual([
      BEGIN,
      INSERT,
      SAVEPOINT(1),
      INSERT,
      SAVEPOINT(2),
      INSERT,
      SAVEPOINT(3),
      INSERT,
      RELEASE(3),
      ROLLBACK_TO(2),
      RELEASE(1),
      COMMIT,
    ]);
    expect(await ids(sf)).toEqual([1, 2]);
  });
});

describe('two factories', () => {
  it('never share a transaction: sf.db, current() and sessions of one ignore the other', async () => {
    const a = await harness();
    const b = await harness();
    await a.sf
      .session(async (txA) => {
        expect(b.sf.current()).toBeUndefined();
        await insert(txA, 1);
        await insert(b.sf.db, 10);
        await b.sf.session(async (txB) => {
          expect(txB.info.depth).toBe(0);
          expect(a.sf.current()?.id).toBe(txA.info.id);
          expect(b.sf.current()?.id).toBe(txB.info.id);
          await insert(txB, 11);
        });
        await expect(b.sf.session(async () => {}, { propagation: 'mandatory' })).rejects.toThrow(PropagationError);
        throw new Error('A rolls back');
      })
      .catch(() => {});
    expect(a.adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
    expect(b.adapter.statements).toEqual([INSERT, BEGIN, INSERT, COMMIT]);
    expect(await ids(a.sf)).toEqual([]);
    expect(await ids(b.sf)).toEqual([10, 11]);
  });
});

describe('sf.db', () => {
  it('inside a session joins it: its statement runs between BEGIN and COMMIT on the session connection', async () => {
    const { adapter, sf } = await harness();
    const queries = recordQueries(sf);
    await sf.session(async (tx) => {
      await mark(tx, 'tx');
      await insert(sf.db, 1);
      await tx.savepoint(async () => {
        await insert(sf.db, 2);
      });
    });
    expect(adapter.statements).toEqual([BEGIN, MARK('tx'), INSERT, SAVEPOINT(1), INSERT, RELEASE(1), COMMIT]);
    expect(new Set(queries.map((q) => q.connectionId)).size).toBe(1);
    expect(queries[2]?.sessionId).toBe('s1');
    expect(await ids(sf)).toEqual([1, 2]);
  });

  it('a rolled-back session takes the sf.db writes made inside it along', async () => {
    const { adapter, sf } = await harness();
    await sf
      .session(async () => {
        await insert(sf.db, 1);
        throw new Error('no');
      })
      .catch(() => {});
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
    expect(await ids(sf)).toEqual([]);
  });

  it('outside a session runs each query in autocommit on a pooled connection', async () => {
    const { adapter, sf } = await harness();
    const queries = recordQueries(sf);
    await insert(sf.db, 1);
    expect(adapter.statements).toEqual([INSERT]);
    expect(queries[0]?.sessionId).toBeUndefined();
    expect(sf.stats().inUse).toBe(0);
    expect(await ids(sf)).toEqual([1]);
  });

  it('sf.db.transaction() works outside a session and is refused inside one', async () => {
    const { adapter, sf } = await harness();
    await sf.db.transaction().execute((trx) => insert(trx as never, 1));
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    adapter.reset();
    const error = await rejection(sf.session(() => sf.db.transaction().execute(async () => {})));
    expect(error).toBeInstanceOf(PropagationError);
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('tx.transaction() and tx.startTransaction() point to savepoint()/requiresNew instead', async () => {
    const { sf } = await harness();
    await sf.session(async (tx: Session<DB>) => {
      expect(() => tx.transaction()).toThrow(PropagationError);
      expect(() => tx.startTransaction()).toThrow(/savepoint/);
    });
  });
});

describe('sf.current()', () => {
  it('is undefined outside sessions and describes the innermost scope inside', async () => {
    const { sf } = await harness();
    expect(sf.current()).toBeUndefined();
    await sf.session(
      async () => {
        expect(sf.current()).toEqual({
          id: 's1',
          depth: 0,
          isolation: 'read committed',
          readOnly: false,
          transactional: true,
          server: 'primary',
        });
        await sf.session(
          async () => {
            expect(sf.current()).toMatchObject({ id: 's1.sp_1', depth: 1, isolation: 'read committed' });
          },
          { propagation: 'nested' },
        );
        expect(sf.current()?.depth).toBe(0);
      },
      { isolation: 'read committed' },
    );
    expect(sf.current()).toBeUndefined();
  });
});
