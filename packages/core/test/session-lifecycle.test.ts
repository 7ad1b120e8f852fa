import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  DatabaseError,
  PropagationError,
  ReadOnlyViolationError,
  type Session,
  SessionClosedError,
  UnexpectedRollbackError,
  UniqueViolationError,
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
  insert,
  MARK,
  mark,
  ROLLBACK,
  recordQueries,
  rejection,
  SELECT,
} from './support/harness.js';

describe('commit and rollback', () => {
  it('commits when fn resolves and returns its value; the connection goes back to the pool', async () => {
    const { adapter, sf } = await harness();
    const result = await sf.session(async (tx) => {
      await insert(tx, 1);
      return 'done';
    });
    expect(result).toBe('done');
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    expect(sf.stats()).toMatchObject({ inUse: 0, idle: 1, created: 1, invalidated: 0 });
    await sf.session(async () => {});
    expect(sf.stats().created).toBe(1);
    expect(await ids(sf)).toEqual([1]);
  });

  it('rolls back when fn throws and rethrows the same error', async () => {
    const { adapter, sf } = await harness();
    const boom = new Error('boom');
    const error = await rejection(
      sf.session(async (tx) => {
        await insert(tx, 1);
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 0 });
    expect(await ids(sf)).toEqual([]);
  });

  it('a failed statement rolls back with its typed error', async () => {
    const { adapter, sf } = await harness();
    await insert(sf.db, 1, 'taken');
    adapter.reset();
    const error = await rejection(sf.session((tx) => insert(tx, 2, 'taken')));
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error.dialect).toBe('fake');
    expect(adapter.statements).toEqual([BEGIN, 'insert into "t" ("id", "name") values (?, ?)', ROLLBACK]);
  });

  it('emits commit and rollback events with the session id', async () => {
    const { sf } = await harness();
    const events: string[] = [];
    sf.on('commit', (e) => events.push(`commit ${e.sessionId}`));
    sf.on('rollback', (e) => events.push(`rollback ${e.sessionId} ${(e.error as Error).message}`));
    await sf.session(async () => {});
    await sf
      .session(async () => {
        throw new Error('x');
      })
      .catch(() => {});
    expect(events).toEqual(['commit s1', 'rollback s2 x']);
  });

  it('sessions beyond the pool size wait for a connection; no connection ever interleaves two sessions', async () => {
    const { adapter, sf } = await harness({ pool: { size: 2, maxOverflow: 0 } });
    const queries = recordQueries(sf);
    const sessionIds = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        sf.session(
          async (tx) => {
            await mark(tx, `r${i}`);
            return tx.info.id;
          },
          { readOnly: true },
        ),
      ),
    );
    expect(new Set(sessionIds).size).toBe(10);
    expect(sf.stats()).toMatchObject({ inUse: 0, waiting: 0, created: 2 });
    expect(adapter.statements.filter((s) => s === BEGIN_RO)).toHaveLength(10);
    for (const connectionId of new Set(queries.map((q) => q.connectionId))) {
      const own = queries.filter((q) => q.connectionId === connectionId);
      for (let i = 0; i < own.length; i += 3) {
        expect([own[i]!.sql, own[i + 2]!.sql]).toEqual([BEGIN_RO, COMMIT]);
        expect(new Set(own.slice(i, i + 3).map((q) => q.sessionId)).size).toBe(1);
      }
    }
  });

  it('rejects a non-function with TypeError', async () => {
    const { adapter, sf } = await harness();
    await expect(sf.session(undefined as never)).rejects.toThrow(TypeError);
    expect(adapter.statements).toEqual([]);
  });
});

describe('isolation and read-only', () => {
  it('BEGIN carries the isolation level and access mode', async () => {
    const { adapter, sf } = await harness();
    const info = await sf.session(async (tx) => tx.info, { isolation: 'repeatable read', readOnly: true });
    await sf.session(async () => {}, { isolation: 'serializable' });
    expect(adapter.statements).toEqual([
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      COMMIT,
      'BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE',
      COMMIT,
    ]);
    expect(info).toMatchObject({ isolation: 'repeatable read', readOnly: true });
  });

  it('factory session defaults apply, and a session option wins', async () => {
    const { adapter, sf } = await harness({ session: { isolation: 'serializable' } });
    await sf.session(async () => {});
    await sf.session(async () => {}, { isolation: 'read committed' });
    expect(adapter.statements).toEqual([
      'BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE',
      COMMIT,
      'BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE',
      COMMIT,
    ]);
  });

  it('a write in a read-only session fails with ReadOnlyViolationError', async () => {
    const { adapter, sf } = await harness();
    const error = await rejection(sf.session((tx) => insert(tx, 1), { readOnly: true }));
    expect(error).toBeInstanceOf(ReadOnlyViolationError);
    expect(adapter.statements).toEqual([BEGIN_RO, INSERT, ROLLBACK]);
    // The connection is writable again afterwards.
    await sf.session((tx) => insert(tx, 2));
    expect(await ids(sf)).toEqual([2]);
  });

  it('runs the level the adapter maps a request to, and refuses levels it does not list', async () => {
    const { adapter, sf } = await harness(undefined, {
      capabilities: { isolation: { 'read committed': 'serializable', serializable: 'serializable' } },
    });
    await sf.session(
      async (tx) => {
        expect(tx.info.isolation).toBe('serializable');
        // The joined scope asks for what the transaction really runs: no conflict.
        await sf.session(async () => {}, { isolation: 'serializable' });
      },
      { isolation: 'read committed' },
    );
    expect(adapter.statements).toEqual(['BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE', COMMIT]);
    adapter.reset();
    const error = await rejection(sf.session(async () => {}, { isolation: 'repeatable read' }));
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect(error.message).toMatch(/read committed, serializable/);
    expect(adapter.statements).toEqual([]);
  });

  it('readOnly on an adapter that cannot enforce it is UnsupportedFeatureError', async () => {
    const { adapter, sf } = await harness(undefined, { capabilities: { readOnly: false } });
    await expect(sf.session(async () => {}, { readOnly: true })).rejects.toThrow(UnsupportedFeatureError);
    expect(adapter.statements).toEqual([]);
  });
});

describe('failures of the transaction statements', () => {
  it('a failed BEGIN sends no ROLLBACK, destroys the connection and never reuses it', async () => {
    const { adapter, sf } = await harness();
    const queries = recordQueries(sf);
    const invalidations: string[] = [];
    sf.on('invalidate', (e) => invalidations.push(e.reason));
    adapter.fail({ match: BEGIN, error: 'DATABASE' });
    let called = false;
    const error = await rejection(
      sf.session(async () => {
        called = true;
      }),
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(called).toBe(false);
    expect(adapter.statements).toEqual([BEGIN]);
    expect(invalidations).toEqual(['BEGIN failed']);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0, open: 0 });
    await sf.session((tx) => insert(tx, 1));
    expect(adapter.statements).toEqual([BEGIN, BEGIN, INSERT, COMMIT]);
    expect(queries[1]!.connectionId).not.toBe(queries[0]!.connectionId);
    expect(adapter.connections).toHaveLength(2);
  });

  it('a failed COMMIT destroys the connection, rethrows, runs onRollback (not onCommit), nothing is kept', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: COMMIT, error: 'DATABASE' });
    const hooks: string[] = [];
    const rollbacks: string[] = [];
    sf.on('rollback', (e) => rollbacks.push(e.sessionId));
    const error = await rejection(
      sf.session(async (tx) => {
        tx.onCommit(() => void hooks.push('onCommit'));
        tx.onRollback(() => void hooks.push('onRollback'));
        await insert(tx, 1);
      }),
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.message).toMatch(/COMMIT/);
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    expect(hooks).toEqual(['onRollback']);
    expect(rollbacks).toEqual(['s1']);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0, open: 0 });
    expect(await ids(sf)).toEqual([]);
  });

  it('a failed ROLLBACK never hides the original error: it is attached as suppressed', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: ROLLBACK, error: 'CONNECTION' });
    const boom = new Error('boom');
    const hooks: string[] = [];
    const error = await rejection(
      sf.session(async (tx) => {
        tx.onRollback(() => void hooks.push('onRollback'));
        await insert(tx, 1);
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(error.suppressed).toEqual([expect.any(ConnectionError)]);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
    expect(hooks).toEqual(['onRollback']);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0, open: 0 });
    expect(await ids(sf)).toEqual([]);
  });

  it('a typed original error carries the ROLLBACK error in its own suppressed list', async () => {
    const { adapter, sf } = await harness();
    await insert(sf.db, 1, 'taken');
    adapter.reset();
    adapter.fail({ match: ROLLBACK, error: 'DATABASE' });
    const error = await rejection(sf.session((tx) => insert(tx, 2, 'taken')));
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error.suppressed).toEqual([expect.any(DatabaseError)]);
    expect(sf.stats().invalidated).toBe(1);
  });

  it('a connection lost during a statement sends no ROLLBACK and is destroyed', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, breakConnection: true });
    const error = await rejection(sf.session((tx) => insert(tx, 1)));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(adapter.statements).toEqual([BEGIN, INSERT]);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0, open: 0 });
    await sf.session((tx) => insert(tx, 2));
    expect(await ids(sf)).toEqual([2]);
  });

  it('a transaction the server already ended is not committed: DatabaseError, no COMMIT', async () => {
    const { adapter, sf } = await harness();
    const error = await rejection(
      sf.session(async (tx) => {
        await insert(tx, 1);
        await sql`ROLLBACK`.execute(tx); // stands in for a server-side auto-rollback
      }),
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.message).toMatch(/rolled the transaction back on its own/);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 0 });
  });
});

describe('rollback-only', () => {
  it.each(['required', 'mandatory', 'supports'] as const)(
    'a failed %s scope makes the session roll back with UnexpectedRollbackError instead of committing',
    async (propagation) => {
      const { adapter, sf } = await harness();
      const hooks: string[] = [];
      const error = await rejection(
        sf.session(async (tx) => {
          tx.onCommit(() => void hooks.push('onCommit'));
          tx.onRollback(() => void hooks.push('onRollback'));
          await insert(tx, 1);
          await sf
            .session(
              async (inner) => {
                await insert(inner, 2);
                throw new Error('inner fails');
              },
              { propagation },
            )
            .catch(() => {}); // swallowed: the outer scope carries on
          await mark(tx, 'after');
        }),
      );
      expect(error).toBeInstanceOf(UnexpectedRollbackError);
      expect(adapter.statements).toEqual([BEGIN, INSERT, INSERT, MARK('after'), ROLLBACK]);
      expect(hooks).toEqual(['onRollback']);
      expect(await ids(sf)).toEqual([]);
    },
  );

  it('a joined scope whose statement fails marks the session rollback-only', async () => {
    const { adapter, sf } = await harness();
    await insert(sf.db, 1, 'taken');
    adapter.reset();
    const error = await rejection(
      sf.session(async () => {
        const inner = await rejection(sf.session((tx) => insert(tx, 2, 'taken')));
        expect(inner).toBeInstanceOf(UniqueViolationError);
      }),
    );
    expect(error).toBeInstanceOf(UnexpectedRollbackError);
    expect(adapter.statements.at(-1)).toBe(ROLLBACK);
    expect(adapter.statements).not.toContain(COMMIT);
  });
});

describe('conflicting options on a joined scope', () => {
  const conflicts = [
    ['isolation', { isolation: 'serializable' }],
    ['readOnly', { readOnly: true }],
    ['timeoutMs', { timeoutMs: 1000 }],
    ['signal', { signal: new AbortController().signal }],
    ['retry', { retry: 3 }],
  ] as const;

  it.each(conflicts)('%s throws PropagationError; the outer session is not marked and commits', async (_, options) => {
    const { adapter, sf } = await harness();
    let called = false;
    await sf.session(async (tx) => {
      for (const propagation of ['required', 'mandatory', 'supports', 'nested'] as const) {
        const error = await rejection(
          sf.session(
            async () => {
              called = true;
            },
            { ...options, propagation },
          ),
        );
        expect(error).toBeInstanceOf(PropagationError);
        expect(error.message).toContain(tx.info.id);
      }
      await insert(tx, 1);
    });
    expect(called).toBe(false);
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
  });

  it('options equal to the joined transaction are accepted', async () => {
    const { adapter, sf } = await harness();
    await sf.session(
      async () => {
        await sf.session(async () => {}, { isolation: 'read committed', readOnly: true });
      },
      { isolation: 'read committed', readOnly: true },
    );
    expect(adapter.statements).toEqual(['BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY', COMMIT]);
  });
});

describe('tx after the session ended', () => {
  it('throws SessionClosedError for queries, hooks and savepoints', async () => {
    const { adapter, sf } = await harness();
    let leaked!: Session<DB>;
    let joined!: Session<DB>;
    await sf.session(async (tx) => {
      leaked = tx;
      await sf.session(async (inner) => {
        joined = inner;
      });
    });
    await expect(insert(leaked, 1)).rejects.toThrow(SessionClosedError);
    await expect(leaked.selectFrom('t').selectAll().execute()).rejects.toThrow(/has ended/);
    await expect(insert(joined, 1)).rejects.toThrow(SessionClosedError);
    expect(() => leaked.onCommit(() => {})).toThrow(SessionClosedError);
    expect(() => leaked.onRollback(() => {})).toThrow(SessionClosedError);
    await expect(leaked.savepoint(async () => {})).rejects.toThrow(SessionClosedError);
    expect(adapter.statements).toEqual([BEGIN, COMMIT]);
  });

  it('also after a rollback', async () => {
    const { adapter, sf } = await harness();
    let leaked!: Session<DB>;
    await sf
      .session(async (tx) => {
        leaked = tx;
        throw new Error('x');
      })
      .catch(() => {});
    await expect(leaked.selectFrom('t').selectAll().execute()).rejects.toThrow(SessionClosedError);
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK]);
  });

  it.each(['supports', 'notSupported', 'never'] as const)(
    'the tx of a %s scope without a transaction throws SessionClosedError too',
    async (propagation) => {
      const { adapter, sf } = await harness();
      const leaked = await sf.session(async (tx) => tx, { propagation });
      const error = await rejection(leaked.selectFrom('t').selectAll().execute());
      expect(error).toBeInstanceOf(SessionClosedError);
      expect(adapter.statements).not.toContain(SELECT);
    },
  );
});
