import type { CompiledQuery } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DatabaseError, DeadlockError } from '../src/index.js';
import { FakeConnection, FakeDriverError } from '../src/testing/index.js';
import { BEGIN, COMMIT, harness, INSERT, ids, insert, ROLLBACK, rejection } from './support/harness.js';

// Galera answers a ROLLBACK with 1213 after a brute-force abort: the server already rolled the
// transaction back. The fake does the same here: it runs the ROLLBACK, then reports `code`.
function rollbackRefused(code: 'DEADLOCK' | 'DATABASE', rolledBack: boolean) {
  const original = FakeConnection.prototype.execute;
  vi.spyOn(FakeConnection.prototype, 'execute').mockImplementation(async function (
    this: FakeConnection,
    query: CompiledQuery,
  ) {
    if (query.sql !== ROLLBACK) return original.call(this, query);
    if (rolledBack) await original.call(this, query);
    throw new FakeDriverError(code, `fake: ROLLBACK refused with ${code}`);
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a ROLLBACK refused because the server already aborted the transaction', () => {
  it('counts as rolled back: the original error is thrown alone, the connection is kept, retry runs the unit again', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, error: 'DEADLOCK' });
    rollbackRefused('DEADLOCK', true);
    const hooks: string[] = [];
    let attempts = 0;
    await sf.session(
      async (tx) => {
        attempts += 1;
        tx.onRollback(() => void hooks.push(`rollback ${attempts}`));
        tx.onCommit(() => void hooks.push(`commit ${attempts}`));
        await insert(tx, 1);
      },
      { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } },
    );
    expect(attempts).toBe(2);
    expect(hooks).toEqual(['rollback 1', 'commit 2']);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK, BEGIN, INSERT, COMMIT]);
    expect(sf.stats()).toMatchObject({ invalidated: 0, created: 1, inUse: 0 });
    expect(await ids(sf)).toEqual([1]);
  });

  it('an application error stays the error, with nothing attached', async () => {
    const { sf } = await harness();
    rollbackRefused('DEADLOCK', true);
    const boom = new Error('boom');
    const error = await rejection(
      sf.session(async (tx) => {
        await insert(tx, 1);
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect((error as { suppressed?: unknown }).suppressed).toBeUndefined();
    expect(sf.stats()).toMatchObject({ invalidated: 0, inUse: 0 });
  });

  it('a deadlock on a ROLLBACK that left the transaction open is still a failed ROLLBACK: attached, connection destroyed', async () => {
    const { sf } = await harness();
    rollbackRefused('DEADLOCK', false);
    const error = await rejection(
      sf.session(async (tx) => {
        await insert(tx, 1);
        throw new Error('boom');
      }),
    );
    expect((error as { suppressed?: unknown[] }).suppressed).toEqual([expect.any(DeadlockError)]);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0 });
  });

  it('any other ROLLBACK failure is attached and the connection destroyed, as before', async () => {
    const { sf } = await harness();
    rollbackRefused('DATABASE', true);
    const error = await rejection(
      sf.session(async (tx) => {
        await insert(tx, 1);
        throw new Error('boom');
      }),
    );
    expect((error as { suppressed?: unknown[] }).suppressed).toEqual([expect.any(DatabaseError)]);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0 });
  });
});
