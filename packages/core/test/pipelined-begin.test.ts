// BEGIN sent with a session's first statement (DriverConnection.executeAfter): one round trip
// less per session, and nothing at all for a session that runs no statement. These cases pin
// the rules that make it safe: a failed BEGIN lets nothing run in autocommit, statements of one
// session never overtake the one carrying BEGIN, and sf.begin() still sends BEGIN up front.
import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { ConnectionError, DatabaseError, type SessionFactoryError } from '../src/index.js';
import type { FakeConnection } from '../src/testing/index.js';
import {
  BEGIN,
  COMMIT,
  harness,
  INSERT,
  ids,
  insert,
  RELEASE,
  ROLLBACK,
  rejection,
  SAVEPOINT,
  SELECT,
} from './support/harness.js';

/** A one-connection factory over a pipelining fake, and a spy on that connection's executeAfter. */
async function pipelined() {
  const h = await harness({ pool: { size: 1, maxOverflow: 0 } }, { pipelining: true });
  // harness() created the table through the only connection, so it has just proved itself alive
  const connection = h.adapter.connections[0] as FakeConnection;
  const executeAfter = vi.spyOn(connection, 'executeAfter' as never) as unknown as ReturnType<typeof vi.fn>;
  return { ...h, connection, executeAfter };
}

describe('BEGIN with the first statement', () => {
  it('travels in the same call as the first statement; the statements and their order are unchanged', async () => {
    const { adapter, sf, executeAfter } = await pipelined();
    await sf.session(async (tx) => {
      await insert(tx, 1);
      await insert(tx, 2);
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, INSERT, COMMIT]);
    expect(executeAfter).toHaveBeenCalledTimes(1);
    expect(executeAfter.mock.calls[0]![0]).toEqual([BEGIN]);
    expect(await ids(sf)).toEqual([1, 2]);
  });

  it('a session that runs no statement sends nothing, commits its hooks and returns its value', async () => {
    const { adapter, sf } = await pipelined();
    const hooks: string[] = [];
    const value = await sf.session(async (tx) => {
      tx.onCommit(() => {
        hooks.push('commit');
      });
      return 42;
    });
    expect(value).toBe(42);
    expect(hooks).toEqual(['commit']);
    expect(adapter.statements).toEqual([]);
    expect(sf.stats().destroyed).toBe(0);
  });

  it('a session that throws before its first statement sends no ROLLBACK and keeps its connection', async () => {
    const { adapter, sf } = await pipelined();
    const hooks: string[] = [];
    const failure = new Error('before any statement');
    const error = await rejection(
      sf.session(async (tx) => {
        tx.onRollback(() => {
          hooks.push('rollback');
        });
        throw failure;
      }),
    );
    expect(error).toBe(failure);
    expect(hooks).toEqual(['rollback']);
    expect(adapter.statements).toEqual([]);
    expect(sf.stats().destroyed).toBe(0);
    await sf.session((tx) => insert(tx, 1));
    expect(await ids(sf)).toEqual([1]);
  });

  it('a savepoint as the first statement carries BEGIN', async () => {
    const { adapter, sf, executeAfter } = await pipelined();
    await sf.session((tx) => tx.savepoint((sp) => insert(sp, 1)));
    expect(adapter.statements).toEqual([BEGIN, SAVEPOINT(1), INSERT, RELEASE(1), COMMIT]);
    expect(executeAfter.mock.calls[0]![1]).toMatchObject({ sql: SAVEPOINT(1) });
  });

  it('a stream as the first statement sends BEGIN on its own first', async () => {
    const { adapter, sf, executeAfter } = await pipelined();
    await sf.session((tx) => insert(tx, 1));
    adapter.reset();
    const seen: number[] = [];
    await sf.session(async (tx) => {
      for await (const row of tx.selectFrom('t').select('id').stream()) seen.push(row.id);
    });
    expect(seen).toEqual([1]);
    expect(adapter.statements).toEqual([BEGIN, 'select "id" from "t"', COMMIT]);
    expect(executeAfter).toHaveBeenCalledTimes(1); // the first session only
  });

  it('sf.begin() sends BEGIN before it resolves', async () => {
    const { adapter, sf, executeAfter } = await pipelined();
    await using s = await sf.begin();
    expect(adapter.statements).toEqual([BEGIN]);
    await insert(s, 1);
    await s.commit();
    expect(executeAfter).not.toHaveBeenCalled();
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
  });

  it('a connection not proven alive recently gets BEGIN on its own (a dead one can still be replaced)', async () => {
    const { adapter, sf } = await harness({ pool: { size: 2, maxOverflow: 0 } }, { pipelining: true });
    // Two sessions at once: the second needs a new connection, which has run nothing yet.
    let finishFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => {
      finishFirst = resolve;
    });
    const first = sf.session(async (tx) => {
      await insert(tx, 1);
      await firstMayEnd;
    });
    await vi.waitFor(() => expect(adapter.statements).toContain(INSERT));
    const fresh = sf.session((tx) => sql`select 2`.execute(tx));
    await vi.waitFor(() => expect(adapter.connections).toHaveLength(2));
    const second = adapter.connections[1] as FakeConnection;
    const spy = vi.spyOn(second, 'executeAfter' as never);
    await fresh;
    finishFirst();
    await first;
    expect(spy).not.toHaveBeenCalled();
    expect(adapter.statements).toEqual([BEGIN, INSERT, BEGIN, 'select 2', COMMIT, COMMIT]);
  });
});

describe('a connection found dead by the statement carrying BEGIN', () => {
  it('is replaced, and BEGIN and the statement go out again: the session never notices', async () => {
    const { adapter, sf } = await pipelined();
    adapter.fail({ match: BEGIN, breakConnection: true });
    await sf.session(async (tx) => {
      await insert(tx, 1);
      await insert(tx, 2);
    });
    expect(adapter.statements).toEqual([BEGIN, BEGIN, INSERT, INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([1, 2]);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0 });
  });

  it('gives up after three dead connections with ConnectionError, and nothing ran', async () => {
    const { adapter, sf } = await pipelined();
    adapter.fail({ match: BEGIN, breakConnection: true, times: 3 });
    const error = (await rejection(sf.session((tx) => insert(tx, 1)))) as SessionFactoryError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.commitOutcomeUnknown).toBe(false);
    expect(adapter.statements).toEqual([BEGIN, BEGIN, BEGIN]);
    expect(await ids(sf)).toEqual([]);
    expect(sf.stats()).toMatchObject({ inUse: 0 });
  });
});

describe('a BEGIN that fails in the prelude', () => {
  it('fails the statement, sends no ROLLBACK, destroys the connection; the next session works', async () => {
    const { adapter, sf } = await pipelined();
    adapter.fail({ match: BEGIN, error: 'DATABASE' });
    const error = await rejection(sf.session((tx) => insert(tx, 1)));
    expect(error).toBeInstanceOf(DatabaseError);
    expect(adapter.statements).toEqual([BEGIN]); // the INSERT never ran
    expect(adapter.statements).not.toContain(ROLLBACK);
    expect(sf.stats().destroyed).toBe(1);
    await sf.session((tx) => insert(tx, 2));
    expect(await ids(sf)).toEqual([2]);
  });

  it('a caught BEGIN failure leaves the session unusable: nothing runs in autocommit after it', async () => {
    const { adapter, sf } = await pipelined();
    adapter.fail({ match: BEGIN, error: 'DATABASE' });
    let caught: unknown;
    const error = await rejection(
      sf.session(async (tx) => {
        caught = await rejection(insert(tx, 1));
        await insert(tx, 2);
      }),
    );
    expect(error).toBe(caught);
    expect(adapter.statements).toEqual([BEGIN]);
    expect(await ids(sf)).toEqual([]);
  });

  it('statements issued beside the first one wait for it and never run when BEGIN failed', async () => {
    const { adapter, sf } = await pipelined();
    adapter.fail({ match: BEGIN, error: 'DATABASE' });
    const error = (await rejection(
      sf.session(async (tx) => {
        await Promise.all([insert(tx, 1), insert(sf.db, 2), sql`select 3`.execute(tx)]);
      }),
    )) as SessionFactoryError;
    expect(error).toBeInstanceOf(DatabaseError);
    expect(adapter.statements).toEqual([BEGIN]);
    expect(await ids(sf)).toEqual([]);
  });

  it('statements issued beside the first one run after it, in order, when BEGIN succeeded', async () => {
    const { adapter, sf } = await pipelined();
    await sf.session(async (tx) => {
      await Promise.all([insert(tx, 1), insert(sf.db, 2)]);
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([1, 2]);
  });
});

// A MySQL server runs every command it was sent, even after BEGIN failed: a statement sent with
// BEGIN would then run in autocommit. Such connections (`preludeFailureRunsQuery`) carry BEGIN
// only with a plain SELECT; anything else waits for BEGIN on its own.
describe('a connection whose server runs the query even after its prelude failed', () => {
  async function runsQuery() {
    const h = await harness({ pool: { size: 1, maxOverflow: 0 } }, { pipelining: 'runs-query' });
    const connection = h.adapter.connections[0] as FakeConnection;
    const executeAfter = vi.spyOn(connection, 'executeAfter' as never) as unknown as ReturnType<typeof vi.fn>;
    return { ...h, executeAfter };
  }

  it('a plain SELECT carries BEGIN', async () => {
    const { adapter, sf, executeAfter } = await runsQuery();
    await sf.session(async (tx) => {
      await tx.selectFrom('t').selectAll().execute();
      await insert(tx, 1);
    });
    expect(executeAfter).toHaveBeenCalledTimes(1);
    expect(adapter.statements).toEqual([BEGIN, SELECT, INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([1]);
  });

  it('a write as the first statement waits for BEGIN; a failed BEGIN lets it run nowhere', async () => {
    const { adapter, sf, executeAfter } = await runsQuery();
    await sf.session((tx) => insert(tx, 1));
    expect(executeAfter).not.toHaveBeenCalled();
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    adapter.reset();
    adapter.fail({ match: BEGIN, error: 'DATABASE' });
    const error = await rejection(sf.session((tx) => insert(tx, 2)));
    expect(error).toBeInstanceOf(DatabaseError);
    expect(adapter.statements).toEqual([BEGIN]);
    expect(sf.stats().destroyed).toBe(1);
    expect(await ids(sf)).toEqual([1]);
  });

  it('raw SQL counts as a write (it may be one)', async () => {
    const { adapter, sf, executeAfter } = await runsQuery();
    await sf.session((tx) => sql`select 1`.execute(tx));
    expect(executeAfter).not.toHaveBeenCalled();
    expect(adapter.statements).toEqual([BEGIN, 'select 1', COMMIT]);
  });

  it('a SELECT sent with a BEGIN that failed: its result is dropped and the session fails as usual', async () => {
    const { adapter, sf } = await runsQuery();
    await insert(sf.db, 1);
    adapter.reset();
    adapter.fail({ match: BEGIN, error: 'DATABASE' });
    let rows: unknown;
    const error = await rejection(
      sf.session(async (tx) => {
        rows = await tx.selectFrom('t').selectAll().execute();
      }),
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(rows).toBeUndefined();
    expect(adapter.statements).toEqual([BEGIN, SELECT]); // the fake server ran it, as MySQL would
    expect(adapter.statements).not.toContain(ROLLBACK);
    expect(sf.stats().destroyed).toBe(1);
  });
});

describe('a stream as the first statement', () => {
  it('statements issued beside it wait for its BEGIN and never run in autocommit when BEGIN failed', async () => {
    const { adapter, sf } = await pipelined();
    await insert(sf.db, 1);
    adapter.reset();
    adapter.fail({ match: BEGIN, error: 'DATABASE', delayMs: 200 });
    const error = await rejection(
      sf.session(async (tx) => {
        const read = (async () => {
          for await (const _ of tx.selectFrom('t').select('id').stream()) {
            // rows are not the point
          }
        })();
        read.catch(() => undefined);
        // The stream's BEGIN is on its way (and will fail) when the INSERT is issued.
        await vi.waitFor(() => expect(adapter.statements).toEqual([BEGIN]), { interval: 5 });
        await Promise.all([read, insert(tx, 2)]);
      }),
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(adapter.statements).toEqual([BEGIN]);
    expect(await ids(sf)).toEqual([1]);
  });
});
