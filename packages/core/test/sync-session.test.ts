import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  DatabaseError,
  FactoryClosedError,
  PoolTimeoutError,
  PropagationError,
  ReadOnlyViolationError,
  SessionClosedError,
  type SyncSession,
  TransactionTimeoutError,
  UnexpectedRollbackError,
  UnsupportedFeatureError,
} from '../src/index.js';
import {
  BEGIN,
  BEGIN_RO,
  COMMIT,
  type DB,
  harness,
  INSERT,
  ids,
  RELEASE,
  ROLLBACK,
  ROLLBACK_TO,
  recordQueries,
  SAVEPOINT,
  SELECT,
  thrown,
} from './support/harness.js';

const insertRow = (tx: SyncSession<DB>, id: number) => tx.run(tx.db.insertInto('t').values({ id }));

describe('sf.syncSession(fn)', () => {
  it('commits and returns the value of fn', async () => {
    const { adapter, sf } = await harness();
    const result = sf.syncSession((tx) => {
      const run = insertRow(tx, 1);
      expect(run).toEqual({ numAffectedRows: 1n, insertId: 1n });
      return tx.all(tx.db.selectFrom('t').selectAll());
    });
    expect(result).toEqual([{ id: 1, name: null }]);
    expect(adapter.statements).toEqual([BEGIN, INSERT, SELECT, COMMIT]);
    expect(sf.stats().inUse).toBe(0);
    expect(await ids(sf)).toEqual([1]);
  });

  it('accepts compiled queries; get() returns the first row or undefined', async () => {
    const { sf } = await harness();
    const rows = sf.syncSession((tx) => {
      insertRow(tx, 1);
      return [
        tx.get(CompiledQuery.raw('select id from t where id = ?', [1])),
        tx.get(tx.db.selectFrom('t').select('id').where('id', '=', 2)),
      ];
    });
    expect(rows).toEqual([{ id: 1 }, undefined]);
  });

  it('rolls back and rethrows when fn throws', async () => {
    const { adapter, sf } = await harness();
    const boom = new Error('boom');
    const error = thrown(() =>
      sf.syncSession((tx) => {
        insertRow(tx, 1);
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
    expect(sf.stats().inUse).toBe(0);
    expect(await ids(sf)).toEqual([]);
  });

  it('savepoints: RELEASE on success, ROLLBACK TO on throw, outer work kept', async () => {
    const { adapter, sf } = await harness();
    sf.syncSession((tx) => {
      insertRow(tx, 1);
      tx.savepoint((sp) => insertRow(sp, 2));
      const error = thrown(() =>
        tx.savepoint((sp) => {
          expect(sp.info).toMatchObject({ id: 's1.sp_2', depth: 1 });
          insertRow(sp, 3);
          throw new Error('savepoint fails');
        }),
      );
      expect(error.message).toBe('savepoint fails');
    });
    expect(adapter.statements).toEqual([
      BEGIN,
      INSERT,
      SAVEPOINT(1),
      INSERT,
      RELEASE(1),
      SAVEPOINT(2),
      INSERT,
      ROLLBACK_TO(2),
      COMMIT,
    ]);
    expect(await ids(sf)).toEqual([1, 2]);
  });

  it('a Promise-returning fn is a TypeError and rolls back what ran before its first await', async () => {
    const { adapter, sf } = await harness();
    const error = thrown(() =>
      sf.syncSession((async (tx: SyncSession<DB>) => {
        insertRow(tx, 1);
        await Promise.resolve();
      }) as never),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/returned a Promise/);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
    expect(sf.stats().inUse).toBe(0);
    expect(await ids(sf)).toEqual([]);
  });

  it('a Promise-returning savepoint fn is a TypeError and rolls back to the savepoint', async () => {
    const { adapter, sf } = await harness();
    sf.syncSession((tx) => {
      const error = thrown(() => tx.savepoint((async () => {}) as never));
      expect(error).toBeInstanceOf(TypeError);
    });
    expect(adapter.statements).toEqual([BEGIN, SAVEPOINT(1), ROLLBACK_TO(1), COMMIT]);
  });

  it('tx.db builds queries only: .execute() fails with a clear error', async () => {
    const { adapter, sf } = await harness();
    let attempt!: Promise<unknown>;
    sf.syncSession((tx) => {
      attempt = tx.db.selectFrom('t').selectAll().execute();
      attempt.catch(() => {});
    });
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/tx\.all\(query\), tx\.get\(query\) or tx\.run\(query\)/);
    expect(adapter.statements).toEqual([BEGIN, COMMIT]);
  });

  it('throws PoolTimeoutError at once when an async session holds the only connection', async () => {
    const { adapter, sf } = await harness({ pool: { size: 1, maxOverflow: 0, timeoutMs: 30_000 } });
    await sf.session(async () => {
      const started = performance.now();
      const error = thrown(() => sf.syncSession(() => 1));
      expect(error).toBeInstanceOf(PoolTimeoutError);
      expect(error.message).toMatch(/pool size 1, maxOverflow 0/);
      expect(performance.now() - started).toBeLessThan(1000);
    });
    expect(adapter.statements).toEqual([BEGIN, COMMIT]);
    expect(sf.syncSession(() => 2)).toBe(2);
  });

  it('emits query events for every statement, BEGIN and COMMIT included, as async sessions do', async () => {
    const { sf } = await harness();
    const queries = recordQueries(sf);
    sf.syncSession((tx) => {
      insertRow(tx, 1);
      tx.savepoint(() => {});
    });
    expect(queries.map((q) => [q.sql, q.sessionId])).toEqual([
      [BEGIN, 's1'],
      [INSERT, 's1'],
      [SAVEPOINT(1), 's1'],
      [RELEASE(1), 's1'],
      [COMMIT, 's1'],
    ]);
  });

  it('runs BEGIN READ ONLY for readOnly, and writes fail', async () => {
    const { adapter, sf } = await harness();
    const error = thrown(() => sf.syncSession((tx) => insertRow(tx, 1), { readOnly: true }));
    expect(error).toBeInstanceOf(ReadOnlyViolationError);
    expect(adapter.statements).toEqual([BEGIN_RO, INSERT, ROLLBACK]);
    sf.syncSession((tx) => insertRow(tx, 2));
    expect(await ids(sf)).toEqual([2]);
  });

  it('timeoutMs: a statement after the deadline throws TransactionTimeoutError and rolls back', async () => {
    const { adapter, sf } = await harness();
    const error = thrown(() =>
      sf.syncSession(
        (tx) => {
          const until = performance.now() + 40;
          while (performance.now() < until) {
            // busy: a sync session cannot be interrupted, only refused its next statement
          }
          insertRow(tx, 1);
        },
        { timeoutMs: 10 },
      ),
    );
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK]);
  });

  it('tx after the session ended throws SessionClosedError', async () => {
    const { adapter, sf } = await harness();
    const leaked = sf.syncSession((tx) => tx);
    expect(() => insertRow(leaked, 1)).toThrow(SessionClosedError);
    expect(() => leaked.onCommit(() => {})).toThrow(SessionClosedError);
    expect(() => leaked.savepoint(() => {})).toThrow(SessionClosedError);
    expect(adapter.statements).toEqual([BEGIN, COMMIT]);
  });

  it('refuses to start on a closed factory', async () => {
    const { sf } = await harness();
    await sf.close();
    expect(() => sf.syncSession(() => {})).toThrow(FactoryClosedError);
  });
});

describe('sync hooks', () => {
  it('onCommit after COMMIT in order; a savepoint that rolls back drops its own', async () => {
    const { adapter, sf } = await harness();
    const log: string[] = [];
    const hook = (name: string) => () => void log.push(`${name} after ${adapter.statements.at(-1)}`);
    sf.syncSession((tx) => {
      tx.onCommit(hook('hook 1'));
      const error = thrown(() =>
        tx.savepoint((sp) => {
          sp.onCommit(hook('dropped'));
          sp.onRollback(hook('savepoint onRollback'));
          throw new Error('x');
        }),
      );
      expect(error.message).toBe('x');
      tx.onCommit(hook('hook 2'));
    });
    expect(adapter.statements).toEqual([BEGIN, SAVEPOINT(1), ROLLBACK_TO(1), COMMIT]);
    expect(log).toEqual([
      `savepoint onRollback after ${ROLLBACK_TO(1)}`,
      `hook 1 after ${COMMIT}`,
      `hook 2 after ${COMMIT}`,
    ]);
  });

  it('a throwing onCommit is reported as an error event; the session still returns', async () => {
    const { sf } = await harness();
    const errors: unknown[] = [];
    sf.on('error', (e) => errors.push(e));
    const bad = new Error('hook failed');
    const result = sf.syncSession((tx) => {
      tx.onCommit(() => {
        throw bad;
      });
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(errors).toEqual([{ phase: 'onCommit', error: bad, sessionId: 's1' }]);
  });

  it('onRollback runs after ROLLBACK', async () => {
    const { adapter, sf } = await harness();
    const log: string[] = [];
    thrown(() =>
      sf.syncSession((tx) => {
        tx.onRollback(() => void log.push(`onRollback after ${adapter.statements.at(-1)}`));
        throw new Error('x');
      }),
    );
    expect(log).toEqual([`onRollback after ${ROLLBACK}`]);
  });
});

describe('sync failures of the transaction statements', () => {
  it('a failed BEGIN sends no ROLLBACK and destroys the connection', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: BEGIN, error: 'DATABASE' });
    let called = false;
    const error = thrown(() =>
      sf.syncSession(() => {
        called = true;
      }),
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(called).toBe(false);
    expect(adapter.statements).toEqual([BEGIN]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 1 });
    sf.syncSession((tx) => insertRow(tx, 1));
    expect(await ids(sf)).toEqual([1]);
  });

  it('a failed COMMIT destroys the connection, runs onRollback and rethrows', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: COMMIT, error: 'DATABASE' });
    const hooks: string[] = [];
    const error = thrown(() =>
      sf.syncSession((tx) => {
        tx.onCommit(() => void hooks.push('onCommit'));
        tx.onRollback(() => void hooks.push('onRollback'));
        insertRow(tx, 1);
      }),
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(hooks).toEqual(['onRollback']);
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 1 });
    expect(await ids(sf)).toEqual([]);
  });

  it('a failed ROLLBACK is attached to the original error as suppressed; the connection is destroyed', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: ROLLBACK, error: 'CONNECTION' });
    const boom = new Error('boom');
    const error = thrown(() =>
      sf.syncSession(() => {
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(error.suppressed).toEqual([expect.any(ConnectionError)]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 1 });
  });
});

describe('sync propagation', () => {
  it('required joins the open sync session; a failed joined scope makes it roll back', async () => {
    const { adapter, sf } = await harness();
    sf.syncSession((outer) => {
      sf.syncSession((inner) => {
        expect(inner).toBe(outer);
        insertRow(inner, 1);
      });
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    adapter.reset();
    const error = thrown(() =>
      sf.syncSession(() => {
        thrown(() =>
          sf.syncSession(() => {
            throw new Error('joined fails');
          }),
        );
      }),
    );
    expect(error).toBeInstanceOf(UnexpectedRollbackError);
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK]);
  });

  it('mandatory needs an open sync session; never refuses one', async () => {
    const { adapter, sf } = await harness();
    expect(() => sf.syncSession(() => {}, { propagation: 'mandatory' })).toThrow(PropagationError);
    sf.syncSession(() => {
      expect(() => sf.syncSession(() => {}, { propagation: 'never' })).toThrow(PropagationError);
      sf.syncSession(() => {}, { propagation: 'mandatory' });
    });
    expect(adapter.statements).toEqual([BEGIN, COMMIT]);
  });

  it('nested is a savepoint inside, a new transaction outside', async () => {
    const { adapter, sf } = await harness();
    sf.syncSession((tx) => insertRow(tx, 1), { propagation: 'nested' });
    sf.syncSession(() => {
      sf.syncSession((sp) => insertRow(sp, 2), { propagation: 'nested' });
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT, BEGIN, SAVEPOINT(1), INSERT, RELEASE(1), COMMIT]);
  });

  it('supports and notSupported outside a session run each statement in autocommit', async () => {
    const { adapter, sf } = await harness();
    for (const propagation of ['supports', 'notSupported', 'never'] as const) {
      sf.syncSession(
        (tx) => {
          expect(tx.info.transactional).toBe(false);
          tx.all(tx.db.selectFrom('t').selectAll());
        },
        { propagation },
      );
    }
    expect(adapter.statements).toEqual([SELECT, SELECT, SELECT]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('a joined scope asking for a different readOnly is refused', async () => {
    const { sf } = await harness();
    sf.syncSession(() => {
      expect(() => sf.syncSession(() => {}, { readOnly: true })).toThrow(PropagationError);
    });
  });

  it('a nested scope asking for options that conflict with the transaction is refused, as in async sessions', async () => {
    const { adapter, sf } = await harness();
    sf.syncSession(() => {
      expect(() => sf.syncSession(() => {}, { propagation: 'nested', readOnly: true })).toThrow(PropagationError);
      expect(() => sf.syncSession(() => {}, { propagation: 'nested', isolation: 'serializable' })).toThrow(
        PropagationError,
      );
    });
    expect(adapter.statements).toEqual([BEGIN, COMMIT]);
  });

  it('a joined scope whose options equal the transaction is accepted, as in async sessions', async () => {
    const { adapter, sf } = await harness();
    sf.syncSession(
      () => {
        sf.syncSession(() => {}, { isolation: 'serializable', readOnly: false });
      },
      { isolation: 'serializable' },
    );
    expect(adapter.statements).toEqual(['BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE', COMMIT]);
  });

  it('savepoints are refused with UnsupportedFeatureError when the adapter has none, as in async sessions', async () => {
    const { adapter, sf } = await harness(undefined, { capabilities: { savepoints: false } });
    sf.syncSession((tx) => {
      expect(() => tx.savepoint(() => {})).toThrow(UnsupportedFeatureError);
    });
    expect(adapter.statements).toEqual([BEGIN, COMMIT]);
  });
});
