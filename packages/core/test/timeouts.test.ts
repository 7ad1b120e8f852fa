import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ErrorEvent, SessionClosedError, TransactionTimeoutError } from '../src/index.js';
import {
  BEGIN,
  COMMIT,
  harness,
  ids,
  insert,
  MARK,
  mark,
  ROLLBACK,
  recordQueries,
  rejection,
  SAVEPOINT,
  sleep,
} from './support/harness.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const SLOW = MARK('slow');

describe('timeoutMs', () => {
  it('cancels the running statement, rolls back, throws TransactionTimeoutError, leaks nothing', async () => {
    const { adapter, sf } = await harness();
    const cancel = vi.spyOn(adapter, 'cancel');
    adapter.fail({ match: SLOW, delayMs: 10_000 });
    const started = performance.now();
    const error = await rejection(sf.session((tx) => mark(tx, 'slow'), { timeoutMs: 50 }));
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(error.message).toMatch(/50 ms/);
    expect(performance.now() - started).toBeLessThan(3000); // the 10 s statement was cut short
    expect(cancel).toHaveBeenCalledTimes(1);
    expect(cancel.mock.calls[0]![0]).toBe(adapter.connections[0]);
    expect(adapter.statements).toEqual([BEGIN, SLOW, ROLLBACK]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 0 });
    // The next session works, on the same (healthy) connection.
    adapter.reset();
    await sf.session((tx) => insert(tx, 1));
    expect(adapter.statements).toEqual([BEGIN, 'insert into "t" ("id") values (?)', COMMIT]);
    expect(sf.stats()).toMatchObject({ created: 1, inUse: 0 });
    expect(await ids(sf)).toEqual([1]);
  });

  it('expires while fn awaits something else: rollback at once, later use of tx fails', async () => {
    const { adapter, sf } = await harness();
    let lateUse: Promise<unknown> | undefined;
    const error = await rejection(
      sf.session(
        async (tx) => {
          await mark(tx, 'before');
          await sleep(150);
          lateUse = insert(tx, 1);
          await lateUse;
        },
        { timeoutMs: 30 },
      ),
    );
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(adapter.statements).toEqual([BEGIN, MARK('before'), ROLLBACK]);
    await vi.waitFor(() => expect(lateUse).toBeDefined());
    const late = await rejection(lateUse!);
    expect(late instanceof SessionClosedError || late instanceof TransactionTimeoutError).toBe(true);
    expect(adapter.statements).toEqual([BEGIN, MARK('before'), ROLLBACK]);
    expect(await ids(sf)).toEqual([]);
  });

  it('a statement inside a savepoint is cancelled too; no ROLLBACK TO, the session rolls back', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: SLOW, delayMs: 10_000 });
    const error = await rejection(sf.session((tx) => tx.savepoint((sp) => mark(sp, 'slow')), { timeoutMs: 50 }));
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(adapter.statements).toEqual([BEGIN, SAVEPOINT(1), SLOW, ROLLBACK]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('also bounds the wait for a pooled connection', async () => {
    const { adapter, sf } = await harness({ pool: { size: 1, maxOverflow: 0, timeoutMs: 30_000 } });
    const held = await sf.begin();
    const started = performance.now();
    const error = await rejection(sf.session(async () => {}, { timeoutMs: 50 }));
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(sf.stats().waiting).toBe(0);
    await held.rollback();
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('comes from the factory defaults too', async () => {
    const { adapter, sf } = await harness({ session: { timeoutMs: 50 } });
    adapter.fail({ match: SLOW, delayMs: 10_000 });
    await expect(sf.session((tx) => mark(tx, 'slow'))).rejects.toThrow(TransactionTimeoutError);
  });

  it('is not retried', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: SLOW, delayMs: 10_000, times: 5 });
    let attempts = 0;
    const error = await rejection(
      sf.session(
        async (tx) => {
          attempts += 1;
          await mark(tx, 'slow');
        },
        { timeoutMs: 50, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 } },
      ),
    );
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(attempts).toBe(1);
  });

  it('without cancel support, ROLLBACK waits for the running statement to finish', async () => {
    const { adapter, sf } = await harness(undefined, { capabilities: { cancel: false } });
    const cancel = vi.spyOn(adapter, 'cancel');
    const queries = recordQueries(sf);
    adapter.fail({ match: SLOW, delayMs: 150 });
    const error = await rejection(sf.session((tx) => mark(tx, 'slow'), { timeoutMs: 20 }));
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(cancel).not.toHaveBeenCalled();
    // The statement completed (no error) before ROLLBACK was sent on the same connection.
    expect(queries.map((q) => [q.sql, q.error?.code])).toEqual([
      [BEGIN, undefined],
      [SLOW, undefined],
      [ROLLBACK, undefined],
    ]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 0 });
  });

  it('a failed cancel is reported and the connection is destroyed instead of reused', async () => {
    const { adapter, sf } = await harness();
    const errors: ErrorEvent[] = [];
    sf.on('error', (e) => errors.push(e));
    vi.spyOn(adapter, 'cancel').mockRejectedValue(new Error('cancel refused'));
    adapter.fail({ match: SLOW, delayMs: 100 });
    const error = await rejection(sf.session((tx) => mark(tx, 'slow'), { timeoutMs: 20 }));
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(errors).toMatchObject([{ phase: 'cancel', sessionId: 's1', error: { message: 'cancel refused' } }]);
    expect(adapter.statements).toEqual([BEGIN, SLOW]);
    expect(sf.stats()).toMatchObject({ inUse: 0, invalidated: 1 });
  });
});

describe('AbortSignal', () => {
  it('aborting cancels the running statement and rolls back with TransactionTimeoutError', async () => {
    const { adapter, sf } = await harness();
    const cancel = vi.spyOn(adapter, 'cancel');
    adapter.fail({ match: SLOW, delayMs: 10_000 });
    const controller = new AbortController();
    const session = sf.session((tx) => mark(tx, 'slow'), { signal: controller.signal });
    await vi.waitFor(() => expect(adapter.statements).toContain(SLOW));
    const reason = new Error('client went away');
    controller.abort(reason);
    const error = await rejection(session);
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(error.message).toContain('client went away');
    expect(error.cause).toBe(reason);
    expect(cancel).toHaveBeenCalledTimes(1);
    expect(adapter.statements).toEqual([BEGIN, SLOW, ROLLBACK]);
    expect(sf.stats().inUse).toBe(0);
    await sf.session(async () => {});
  });

  it('an already aborted signal starts nothing', async () => {
    const { adapter, sf } = await harness();
    let called = false;
    const error = await rejection(
      sf.session(
        async () => {
          called = true;
        },
        { signal: AbortSignal.abort(new Error('too late')) },
      ),
    );
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(called).toBe(false);
    expect(adapter.statements).toEqual([]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('a signal that never fires changes nothing, and its listener is removed', async () => {
    const { adapter, sf } = await harness();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    await sf.session((tx) => insert(tx, 1), { signal: controller.signal });
    controller.abort();
    expect(adapter.statements).toEqual([BEGIN, 'insert into "t" ("id") values (?)', COMMIT]);
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
    expect(await ids(sf)).toEqual([1]);
  });
});
