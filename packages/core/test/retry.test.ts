import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionFactoryError } from '../src/errors/session-factory-error.js';
import {
  ConnectionError,
  DeadlockError,
  LockTimeoutError,
  PropagationError,
  SerializationFailureError,
  UniqueViolationError,
} from '../src/index.js';
import { backoffDelay, resolveRetryPolicy, shouldRetry } from '../src/session/retry-policy.js';
import {
  BEGIN,
  COMMIT,
  harness,
  INSERT,
  ids,
  insert,
  RELEASE,
  ROLLBACK,
  ROLLBACK_TO,
  recordQueries,
  rejection,
  SAVEPOINT,
} from './support/harness.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const fast = { baseDelayMs: 1, maxDelayMs: 2 };

describe('retry of a top-level session', () => {
  it.each([
    ['SERIALIZATION_FAILURE', SerializationFailureError],
    ['DEADLOCK', DeadlockError],
    ['LOCK_TIMEOUT', LockTimeoutError],
  ] as const)('a %s in a statement rolls back and runs fn again with a new BEGIN', async (code, ErrorClass) => {
    const { adapter, sf } = await harness();
    const queries = recordQueries(sf);
    adapter.fail({ match: INSERT, error: code });
    let attempts = 0;
    const result = await sf.session(
      async (tx) => {
        attempts += 1;
        await insert(tx, 1);
        return attempts;
      },
      { retry: { attempts: 3, ...fast } },
    );
    expect(result).toBe(2);
    expect(queries[1]?.error).toBeInstanceOf(ErrorClass);
    expect(queries[1]?.error?.retryable).toBe(true);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK, BEGIN, INSERT, COMMIT]);
    expect(sf.stats()).toMatchObject({ invalidated: 0, created: 1, inUse: 0 });
    expect(await ids(sf)).toEqual([1]);
  });

  it('a retryable COMMIT failure retries on a fresh connection (the failed one is destroyed)', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: COMMIT, error: 'SERIALIZATION_FAILURE' });
    let attempts = 0;
    await sf.session(
      async (tx) => {
        attempts += 1;
        await insert(tx, 1);
      },
      { retry: { attempts: 2, ...fast } },
    );
    expect(attempts).toBe(2);
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT, BEGIN, INSERT, COMMIT]);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0 });
    expect(await ids(sf)).toEqual([1]);
  });

  it('gives up after `attempts` tries and throws the last error', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, error: 'DEADLOCK', times: 10 });
    let attempts = 0;
    const error = await rejection(
      sf.session(
        async (tx) => {
          attempts += 1;
          await insert(tx, 1);
        },
        { retry: { attempts: 3, ...fast } },
      ),
    );
    expect(error).toBeInstanceOf(DeadlockError);
    expect(attempts).toBe(3);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK, BEGIN, INSERT, ROLLBACK, BEGIN, INSERT, ROLLBACK]);
  });

  it('`retry: n` is n attempts in total', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, error: 'DEADLOCK', times: 10 });
    let attempts = 0;
    await rejection(
      sf.session(
        async (tx) => {
          attempts += 1;
          await insert(tx, 1);
        },
        { retry: 2 },
      ),
    );
    expect(attempts).toBe(2);
  });

  it('a retryable error thrown by fn itself is retried too', async () => {
    const { sf } = await harness();
    let attempts = 0;
    await sf.session(
      async () => {
        attempts += 1;
        if (attempts < 3) throw new SerializationFailureError('conflict detected by the application');
      },
      { retry: { attempts: 5, ...fast } },
    );
    expect(attempts).toBe(3);
  });

  it.each([
    ['a non-retryable typed error', () => new UniqueViolationError('dup')],
    ['a plain Error', () => new Error('plain')],
  ])('%s is not retried', async (_, make) => {
    const { adapter, sf } = await harness();
    let attempts = 0;
    await rejection(
      sf.session(
        async () => {
          attempts += 1;
          throw make();
        },
        { retry: { attempts: 5, ...fast } },
      ),
    );
    expect(attempts).toBe(1);
    expect(adapter.statements).toEqual([BEGIN, ROLLBACK]);
  });

  it('an injected non-retryable driver error is not retried', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, error: 'UNIQUE_VIOLATION' });
    let attempts = 0;
    const error = await rejection(
      sf.session(
        async (tx) => {
          attempts += 1;
          await insert(tx, 1);
        },
        { retry: { attempts: 5, ...fast } },
      ),
    );
    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(attempts).toBe(1);
  });

  it('without retry a retryable error is thrown at once', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, error: 'DEADLOCK' });
    let attempts = 0;
    await rejection(
      sf.session(async (tx) => {
        attempts += 1;
        await insert(tx, 1);
      }),
    );
    expect(attempts).toBe(1);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
  });

  it('the factory default retry applies to every session', async () => {
    const { adapter, sf } = await harness({ session: { retry: { attempts: 2, ...fast } } });
    adapter.fail({ match: INSERT, error: 'DEADLOCK' });
    let attempts = 0;
    await sf.session(async (tx) => {
      attempts += 1;
      await insert(tx, 1);
    });
    expect(attempts).toBe(2);
  });
});

describe('retry after a lost connection (failover)', () => {
  it('a connection lost before COMMIT re-runs fn on a fresh connection; the write lands once', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, breakConnection: true });
    let attempts = 0;
    await sf.session(
      async (tx) => {
        attempts += 1;
        await insert(tx, 1);
      },
      { retry: { attempts: 3, ...fast } },
    );
    expect(attempts).toBe(2);
    expect(adapter.statements).toEqual([BEGIN, INSERT, BEGIN, INSERT, COMMIT]);
    expect(sf.stats()).toMatchObject({ invalidated: 1, inUse: 0 });
    expect(await ids(sf)).toEqual([1]);
  });

  it('a connection that cannot be opened is retried with backoff (the server may be failing over)', async () => {
    const { adapter, sf } = await harness();
    // The pooled connection died with its server; the next two connects are refused.
    for (const connection of adapter.connections) connection.kill();
    adapter.fail({ match: 'CONNECT', error: 'CONNECTION', times: 2 });
    let attempts = 0;
    await sf.session(
      async (tx) => {
        attempts += 1;
        await insert(tx, 7);
      },
      { retry: { attempts: 3, ...fast } },
    );
    expect(attempts).toBe(1);
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([7]);
  });

  it('without retry a lost connection is a ConnectionError at once', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, breakConnection: true });
    const error = await rejection(sf.session((tx) => insert(tx, 1)));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as SessionFactoryError).commitOutcomeUnknown).toBe(false);
  });

  it('shouldRetry: retryable errors and connection errors, never an unknown commit outcome', () => {
    expect(shouldRetry(new DeadlockError('d'))).toBe(true);
    expect(shouldRetry(new ConnectionError('lost'))).toBe(true);
    const atCommit = new ConnectionError('lost at commit');
    atCommit.markCommitOutcomeUnknown();
    expect(shouldRetry(atCommit)).toBe(false);
    const deadlockAtCommit = new DeadlockError('d');
    deadlockAtCommit.markCommitOutcomeUnknown();
    expect(shouldRetry(deadlockAtCommit)).toBe(false);
    expect(shouldRetry(new UniqueViolationError('dup'))).toBe(false);
    expect(shouldRetry(new SessionFactoryError('generic'))).toBe(false);
    expect(shouldRetry(new Error('plain'))).toBe(false);
  });
});

describe('retry never applies to inner scopes', () => {
  it('a joined scope is not retried on its own: the error reaches the session', async () => {
    const { adapter, sf } = await harness({ session: { retry: { attempts: 1 } } });
    adapter.fail({ match: INSERT, error: 'DEADLOCK' });
    let inner = 0;
    const error = await rejection(
      sf.session(() =>
        sf.session(async (tx) => {
          inner += 1;
          await insert(tx, 1);
        }),
      ),
    );
    expect(error).toBeInstanceOf(DeadlockError);
    expect(inner).toBe(1);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
  });

  it('a joined scope asking for retry is refused', async () => {
    const { sf } = await harness();
    const error = await rejection(sf.session(() => sf.session(async () => {}, { retry: 3 })));
    expect(error).toBeInstanceOf(PropagationError);
  });

  it('the top-level session re-runs everything, joined scopes included', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, error: 'DEADLOCK' });
    let outer = 0;
    let inner = 0;
    await sf.session(
      async () => {
        outer += 1;
        await sf.session(async (tx) => {
          inner += 1;
          await insert(tx, 1);
        });
      },
      { retry: { attempts: 2, ...fast } },
    );
    expect({ outer, inner }).toEqual({ outer: 2, inner: 2 });
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK, BEGIN, INSERT, COMMIT]);
  });

  it('a savepoint that fails with a retryable lock timeout rolls back to the savepoint and is not retried', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, error: 'LOCK_TIMEOUT' });
    let inner = 0;
    await sf.session(
      async (tx) => {
        const error = await rejection(
          tx.savepoint(async (sp) => {
            inner += 1;
            await insert(sp, 1);
          }),
        );
        expect(error).toBeInstanceOf(LockTimeoutError);
      },
      { retry: { attempts: 3, ...fast } },
    );
    expect(inner).toBe(1);
    expect(adapter.statements).toEqual([BEGIN, SAVEPOINT(1), INSERT, ROLLBACK_TO(1), COMMIT]);
  });

  it.each(['DEADLOCK', 'SERIALIZATION_FAILURE'] as const)(
    'a %s inside a savepoint ends the whole transaction; the top-level session retries it',
    async (code) => {
      const { adapter, sf } = await harness();
      adapter.fail({ match: INSERT, error: code });
      let outer = 0;
      await sf.session(
        async (tx) => {
          outer += 1;
          // Swallowing the error does not help: the server already rolled the transaction back.
          await tx.savepoint((sp) => insert(sp, 1)).catch(() => {});
        },
        { retry: { attempts: 2, ...fast } },
      );
      expect(outer).toBe(2);
      expect(adapter.statements).toEqual([
        BEGIN,
        SAVEPOINT(1),
        INSERT,
        ROLLBACK,
        BEGIN,
        SAVEPOINT(1),
        INSERT,
        RELEASE(1),
        COMMIT,
      ]);
      expect(await ids(sf)).toEqual([1]);
    },
  );

  it('a deadlock swallowed by fn still fails the session instead of committing', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, error: 'DEADLOCK' });
    const error = await rejection(
      sf.session(async (tx) => {
        await insert(tx, 1).catch(() => {});
      }),
    );
    expect(error).toBeInstanceOf(DeadlockError);
    expect(adapter.statements).toEqual([BEGIN, INSERT, ROLLBACK]);
  });
});

describe('backoff', () => {
  it('is full-jitter exponential, capped by maxDelayMs', () => {
    const policy = resolveRetryPolicy({ attempts: 10, baseDelayMs: 10, maxDelayMs: 100 });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy))).toEqual([5, 10, 20, 40, 50, 50]);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffDelay(3, policy)).toBe(0);
  });

  it('defaults: 10 ms base, 1000 ms cap; no retry is one attempt', () => {
    expect(resolveRetryPolicy(3)).toEqual({ attempts: 3, baseDelayMs: 10, maxDelayMs: 1000 });
    expect(resolveRetryPolicy(undefined).attempts).toBe(1);
  });

  it('bounds the real wait between attempts', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: INSERT, error: 'DEADLOCK', times: 2 });
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    // Unbounded, the two waits would be ~10 s and ~20 s; the cap makes them ~30 ms each.
    const started = performance.now();
    await sf.session((tx) => insert(tx, 1), { retry: { attempts: 3, baseDelayMs: 10_000, maxDelayMs: 30 } });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect(elapsed).toBeLessThan(2000);
    expect(adapter.statements.filter((s) => s === BEGIN)).toHaveLength(3);
  });
});
