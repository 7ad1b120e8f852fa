import { describe, expect, it } from 'vitest';
import {
  DatabaseError,
  FactoryClosedError,
  PropagationError,
  SessionClosedError,
  TransactionTimeoutError,
} from '../src/index.js';
import {
  BEGIN,
  COMMIT,
  harness,
  INSERT,
  ids,
  insert,
  MARK,
  mark,
  RELEASE,
  ROLLBACK,
  recordQueries,
  rejection,
  SAVEPOINT,
  sleep,
} from './support/harness.js';

describe('sf.begin()', () => {
  it('has sent BEGIN when it resolves', async () => {
    const { adapter, sf } = await harness();
    const s = await sf.begin({ isolation: 'serializable' });
    expect(adapter.statements).toEqual(['BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE']);
    expect(s.isEnded).toBe(false);
    expect(s.info).toMatchObject({ id: 's1', depth: 0, isolation: 'serializable' });
    await s.rollback();
  });

  it('`await using` rolls back and releases when the block exits without commit()', async () => {
    const { adapter, sf } = await harness();
    {
      await using s = await sf.begin();
      await insert(s, 1);
    }
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
    expect(sf.stats().inUse).toBe(0);
    expect(await ids(sf)).toEqual([]);
  });

  it('`await using` rolls back when the block throws', async () => {
    const { adapter, sf } = await harness();
    const error = await rejection(
      (async () => {
        await using s = await sf.begin();
        await insert(s, 1);
        throw new Error('block fails');
      })(),
    );
    expect(error.message).toBe('block fails');
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('commit() commits, runs onCommit hooks, and the disposal afterwards sends nothing', async () => {
    const { adapter, sf } = await harness();
    const hooks: string[] = [];
    {
      await using s = await sf.begin();
      s.onCommit(() => void hooks.push('onCommit'));
      await insert(s, 1);
      await s.commit();
      expect(s.isEnded).toBe(true);
    }
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    expect(hooks).toEqual(['onCommit']);
    expect(sf.stats().inUse).toBe(0);
    expect(await ids(sf)).toEqual([1]);
  });

  it('a second commit() throws SessionClosedError; rollback() after commit() does nothing', async () => {
    const { adapter, sf } = await harness();
    const s = await sf.begin();
    await s.commit();
    await expect(s.commit()).rejects.toThrow(SessionClosedError);
    await s.rollback();
    expect(adapter.statements).toEqual([BEGIN, COMMIT]);
  });

  it('rollback() then commit() throws SessionClosedError', async () => {
    const { adapter, sf } = await harness();
    const s = await sf.begin();
    await insert(s, 1);
    await s.rollback();
    await expect(s.commit()).rejects.toThrow(SessionClosedError);
    await expect(insert(s, 2)).rejects.toThrow(SessionClosedError);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
  });

  it('supports savepoints, and its savepoint scopes are ambient for sf.db', async () => {
    const { adapter, sf } = await harness();
    const queries = recordQueries(sf);
    const s = await sf.begin();
    await s.savepoint(async (sp) => {
      expect(sf.current()?.id).toBe(sp.info.id);
      await insert(sf.db, 1);
    });
    await s.commit();
    expect(adapter.statements).toEqual([BEGIN, SAVEPOINT(1), INSERT, RELEASE(1), COMMIT]);
    expect(new Set(queries.map((q) => q.connectionId)).size).toBe(1);
  });

  it('a failing COMMIT destroys the connection and rethrows; the session is ended', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: COMMIT, error: 'DATABASE' });
    const s = await sf.begin();
    await insert(s, 1);
    await expect(s.commit()).rejects.toThrow(DatabaseError);
    expect(s.isEnded).toBe(true);
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 1 });
  });

  it('timeoutMs cancels a running statement; commit() then rolls back and throws the timeout', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: MARK('slow'), delayMs: 10_000 });
    const s = await sf.begin({ timeoutMs: 50 });
    await expect(mark(s, 'slow')).rejects.toThrow(TransactionTimeoutError);
    await expect(s.commit()).rejects.toThrow(TransactionTimeoutError);
    expect(adapter.statements).toEqual([BEGIN, MARK('slow'), ROLLBACK]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('at the deadline the transaction is rolled back and its connection released, untouched by the caller', async () => {
    const { adapter, sf } = await harness();
    const s = await sf.begin({ timeoutMs: 20 });
    await sleep(60);
    // Nothing touched s: the deadline alone ended it (no session left idle in transaction).
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK]);
    expect(sf.stats()).toMatchObject({ inUse: 0, idle: 1 });
    expect(s.isEnded).toBe(true);
    await expect(insert(s, 1)).rejects.toThrow(SessionClosedError);
    await expect(s.commit()).rejects.toThrow(TransactionTimeoutError);
    await s.rollback();
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK]);
  });

  it('refuses propagation other than requiresNew', async () => {
    const { adapter, sf } = await harness();
    await expect(sf.begin({ propagation: 'required' })).rejects.toThrow(PropagationError);
    const s = await sf.begin({ propagation: 'requiresNew' });
    await s.rollback();
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK]);
  });

  it('a failed BEGIN rejects begin() and destroys the connection', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: BEGIN, error: 'DATABASE' });
    await expect(sf.begin()).rejects.toThrow(/DATABASE/);
    expect(adapter.statements).toEqual([BEGIN]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 1 });
  });

  it('a connection found dead at BEGIN is replaced: nothing ran yet, so the session starts on another', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: BEGIN, error: 'CONNECTION' });
    await using s = await sf.begin();
    await insert(s, 1);
    await s.commit();
    expect(adapter.statements).toEqual([BEGIN, BEGIN, INSERT, COMMIT]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 1 });
  });

  it('gives up after three dead connections in a row and rethrows the ConnectionError', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: BEGIN, error: 'CONNECTION', times: 3 });
    await expect(sf.begin()).rejects.toThrow(/CONNECTION/);
    expect(adapter.statements).toEqual([BEGIN, BEGIN, BEGIN]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 3 });
  });

  it('close() waits for an open managed session', async () => {
    const { adapter, sf } = await harness();
    const s = await sf.begin();
    let closed = false;
    const closing = sf.close().then(() => (closed = true));
    await sleep(30);
    expect(closed).toBe(false);
    await expect(sf.begin()).rejects.toThrow(FactoryClosedError);
    await insert(s, 1);
    await s.commit();
    await closing;
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
  });
});
