import { CompiledQuery } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { createSessionFactory, type ErrorEvent, FactoryClosedError } from '../src/index.js';
import { fakeAdapter } from '../src/testing/index.js';
import {
  BEGIN,
  COMMIT,
  gate,
  harness,
  INSERT,
  insert,
  MARK,
  mark,
  RELEASE,
  SAVEPOINT,
  sleep,
} from './support/harness.js';

describe('sf.close()', () => {
  it('waits for sessions in flight, refuses new work meanwhile, then destroys every connection', async () => {
    const { adapter, sf } = await harness();
    const release = gate();
    const running = sf.session(async (tx) => {
      await insert(tx, 1);
      await release.promise;
      await insert(tx, 2);
      return 'finished';
    });
    await vi.waitFor(() => expect(adapter.statements).toContain(INSERT));
    let closed = false;
    const closing = sf.close().then(() => (closed = true));
    expect(sf.isClosed).toBe(true);
    await expect(sf.session(async () => {})).rejects.toThrow(FactoryClosedError);
    await expect(sf.begin()).rejects.toThrow(FactoryClosedError);
    await expect(sf.connection(async () => {})).rejects.toThrow(FactoryClosedError);
    await expect(sf.ping()).rejects.toThrow(FactoryClosedError);
    expect(() => sf.syncSession(() => {})).toThrow(FactoryClosedError);
    await sleep(30);
    expect(closed).toBe(false);
    release.open();
    expect(await running).toBe('finished');
    await closing;
    expect(adapter.statements).toEqual([BEGIN, INSERT, INSERT, COMMIT]);
    expect(sf.stats()).toMatchObject({ open: 0, inUse: 0, idle: 0 });
    expect(sf.stats().destroyed).toBe(sf.stats().created);
    for (const connection of adapter.connections) {
      await expect(connection.execute(CompiledQuery.raw('select 1'))).rejects.toThrow(/closed/);
    }
    await expect(sf.db.selectFrom('t').selectAll().execute()).rejects.toThrow(FactoryClosedError);
  });

  it('lets a draining session still join and nest, but not open another transaction', async () => {
    const { adapter, sf } = await harness();
    let closing!: Promise<void>;
    await sf.session(async (tx) => {
      closing = sf.close();
      await sf.session((joined) => insert(joined, 1));
      await sf.session((nested) => mark(nested, 'nested'), { propagation: 'nested' });
      await tx.savepoint((sp) => mark(sp, 'savepoint'));
      await expect(sf.session(async () => {}, { propagation: 'requiresNew' })).rejects.toThrow(FactoryClosedError);
      await expect(sf.session(async () => {}, { propagation: 'notSupported' })).rejects.toThrow(FactoryClosedError);
    });
    await closing;
    expect(adapter.statements).toEqual([
      BEGIN,
      INSERT,
      SAVEPOINT(1),
      MARK('nested'),
      RELEASE(1),
      SAVEPOINT(2),
      MARK('savepoint'),
      RELEASE(2),
      COMMIT,
    ]);
  });

  it('is idempotent: every call returns the same promise', async () => {
    const { sf } = await harness();
    const first = sf.close();
    expect(sf.close()).toBe(first);
    await first;
    expect(sf.close()).toBe(first);
    await sf[Symbol.asyncDispose]();
  });

  it('gives up waiting after timeoutMs and destroys the connection of a stuck session', async () => {
    const { adapter, sf } = await harness();
    const release = gate();
    const stuck = sf.session(async (tx) => {
      await mark(tx, 'started');
      await release.promise;
      await mark(tx, 'too late');
    });
    await vi.waitFor(() => expect(adapter.statements).toContain(MARK('started')));
    const started = performance.now();
    await sf.close({ timeoutMs: 50 });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(sf.stats()).toMatchObject({ open: 0 });
    release.open();
    await expect(stuck).rejects.toThrow();
    expect(adapter.statements).not.toContain(COMMIT);
  });

  it('closes the adapter and reports an adapter close failure as an error event', async () => {
    const adapter = fakeAdapter();
    const close = vi.fn(async () => {
      throw new Error('adapter close failed');
    });
    const sf = createSessionFactory({ ...adapter, close });
    const errors: ErrorEvent[] = [];
    sf.on('error', (e) => errors.push(e));
    await sf.session(async () => {});
    await sf.close();
    await sf.close();
    expect(close).toHaveBeenCalledTimes(1);
    expect(errors).toMatchObject([{ phase: 'close', error: { message: 'adapter close failed' } }]);
    adapter.dispose();
  });

  it('await using closes the factory', async () => {
    const adapter = fakeAdapter();
    {
      await using sf = createSessionFactory(adapter);
      await sf.session(async () => {});
      expect(sf.stats().open).toBe(1);
    }
    await expect(adapter.connections[0]!.execute(CompiledQuery.raw('select 1'))).rejects.toThrow(/closed/);
    adapter.dispose();
  });

  it('lets an sf.db query already running finish', async () => {
    const { adapter, sf } = await harness();
    adapter.fail({ match: MARK('running'), delayMs: 50 });
    const running = mark(sf.db, 'running');
    await vi.waitFor(() => expect(adapter.statements).toContain(MARK('running')));
    await sf.close();
    await expect(running).resolves.toBeUndefined();
  });
});
