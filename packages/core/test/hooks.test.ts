import { describe, expect, it } from 'vitest';
import { type ErrorEvent, SessionClosedError } from '../src/index.js';
import {
  BEGIN,
  COMMIT,
  harness,
  INSERT,
  insert,
  MARK,
  mark,
  RELEASE,
  ROLLBACK,
  ROLLBACK_TO,
  rejection,
  SAVEPOINT,
  sleep,
  timeline,
} from './support/harness.js';

describe('onCommit', () => {
  it('runs after the physical COMMIT, in registration order', async () => {
    const { sf } = await harness();
    const log = timeline(sf);
    await sf.session(async (tx) => {
      tx.onCommit(() => void log.push('hook 1'));
      await insert(tx, 1);
      tx.onCommit(() => void log.push('hook 2'));
      tx.onRollback(() => void log.push('onRollback'));
      tx.onCommit(() => void log.push('hook 3'));
    });
    expect(log).toEqual([BEGIN, INSERT, COMMIT, 'hook 1', 'hook 2', 'hook 3']);
  });

  it('waits for an async hook before starting the next', async () => {
    const { sf } = await harness();
    const log: string[] = [];
    await sf.session(async (tx) => {
      tx.onCommit(async () => {
        log.push('first starts');
        await sleep(20);
        log.push('first ends');
      });
      tx.onCommit(() => void log.push('second'));
    });
    expect(log).toEqual(['first starts', 'first ends', 'second']);
  });

  it('hooks of joined scopes and released savepoints run after the outermost COMMIT', async () => {
    const { sf } = await harness();
    const log = timeline(sf);
    await sf.session(async (tx) => {
      tx.onCommit(() => void log.push('outer'));
      await sf.session(async (joined) => {
        joined.onCommit(() => void log.push('joined'));
      });
      await tx.savepoint(async (sp) => {
        sp.onCommit(() => void log.push('savepoint'));
        await mark(sp, 'in savepoint');
      });
      await mark(tx, 'after savepoint');
    });
    expect(log).toEqual([
      BEGIN,
      SAVEPOINT(1),
      MARK('in savepoint'),
      RELEASE(1),
      MARK('after savepoint'),
      COMMIT,
      'outer',
      'joined',
      'savepoint',
    ]);
  });

  it('a throwing hook never makes a committed session look rolled back: it is reported as an error event', async () => {
    const { sf } = await harness();
    const errors: ErrorEvent[] = [];
    sf.on('error', (e) => errors.push(e));
    const log: string[] = [];
    const bad = new Error('hook failed');
    const result = await sf.session(async (tx) => {
      tx.onCommit(() => {
        throw bad;
      });
      tx.onCommit(async () => {
        throw new Error('async hook failed');
      });
      tx.onCommit(() => void log.push('later hook still runs'));
      await insert(tx, 1);
      return 42;
    });
    expect(result).toBe(42);
    expect(log).toEqual(['later hook still runs']);
    expect(errors).toEqual([
      { phase: 'onCommit', error: bad, sessionId: 's1' },
      { phase: 'onCommit', error: expect.objectContaining({ message: 'async hook failed' }), sessionId: 's1' },
    ]);
  });

  it('does not run when the session rolls back', async () => {
    const { sf } = await harness();
    const log = timeline(sf);
    await sf
      .session(async (tx) => {
        tx.onCommit(() => void log.push('onCommit'));
        tx.onRollback(() => void log.push('onRollback 1'));
        tx.onRollback(() => void log.push('onRollback 2'));
        throw new Error('x');
      })
      .catch(() => {});
    expect(log).toEqual([BEGIN, ROLLBACK, 'onRollback 1', 'onRollback 2']);
  });
});

describe('onRollback', () => {
  it('a throwing onRollback does not replace the session error', async () => {
    const { sf } = await harness();
    const errors: ErrorEvent[] = [];
    sf.on('error', (e) => errors.push(e));
    const boom = new Error('boom');
    const error = await rejection(
      sf.session(async (tx) => {
        tx.onRollback(() => {
          throw new Error('hook failed');
        });
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(errors).toMatchObject([{ phase: 'onRollback', sessionId: 's1', error: { message: 'hook failed' } }]);
  });
});

describe('hooks and savepoints', () => {
  it('a savepoint that rolls back drops its onCommit callbacks and runs its onRollback at once', async () => {
    const { sf } = await harness();
    const log = timeline(sf);
    await sf.session(async (tx) => {
      tx.onCommit(() => void log.push('outer onCommit'));
      await tx
        .savepoint(async (sp) => {
          sp.onCommit(() => void log.push('savepoint onCommit'));
          sp.onRollback(() => void log.push('savepoint onRollback'));
          await insert(sp, 1);
          throw new Error('savepoint fails');
        })
        .catch(() => {});
      await mark(tx, 'outer continues');
    });
    expect(log).toEqual([
      BEGIN,
      SAVEPOINT(1),
      INSERT,
      ROLLBACK_TO(1),
      'savepoint onRollback',
      MARK('outer continues'),
      COMMIT,
      'outer onCommit',
    ]);
  });

  it('a released savepoint hands its onRollback to the session, which runs it if it rolls back later', async () => {
    const { sf } = await harness();
    const log = timeline(sf);
    await sf
      .session(async (tx) => {
        await tx.savepoint(async (sp) => {
          sp.onCommit(() => void log.push('savepoint onCommit'));
          sp.onRollback(() => void log.push('savepoint onRollback'));
        });
        throw new Error('outer fails');
      })
      .catch(() => {});
    expect(log).toEqual([BEGIN, SAVEPOINT(1), RELEASE(1), ROLLBACK, 'savepoint onRollback']);
  });

  it('a rolled-back savepoint inside a released one drops only its own callbacks', async () => {
    const { sf } = await harness();
    const log: string[] = [];
    await sf.session(async (tx) => {
      await tx.savepoint(async (sp1) => {
        sp1.onCommit(() => void log.push('sp1'));
        await sp1
          .savepoint(async (sp2) => {
            sp2.onCommit(() => void log.push('sp2'));
            throw new Error('sp2 fails');
          })
          .catch(() => {});
      });
    });
    expect(log).toEqual(['sp1']);
  });
});

describe('hooks of scopes without a transaction', () => {
  it('onCommit runs when fn resolves, onRollback when it throws', async () => {
    const { sf } = await harness();
    const log: string[] = [];
    await sf.session(
      async (tx) => {
        tx.onCommit(() => void log.push('ok'));
        tx.onRollback(() => void log.push('never'));
      },
      { propagation: 'supports' },
    );
    await sf
      .session(
        async (tx) => {
          tx.onCommit(() => void log.push('never'));
          tx.onRollback(() => void log.push('failed'));
          throw new Error('x');
        },
        { propagation: 'notSupported' },
      )
      .catch(() => {});
    expect(log).toEqual(['ok', 'failed']);
  });
});

describe('registering on an ended session', () => {
  it('throws SessionClosedError', async () => {
    const { sf } = await harness();
    const tx = await sf.session(async (tx) => tx);
    expect(() => tx.onCommit(() => {})).toThrow(SessionClosedError);
    expect(() => tx.onRollback(() => {})).toThrow(SessionClosedError);
  });
});
