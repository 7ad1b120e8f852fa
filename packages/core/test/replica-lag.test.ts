import {
  ConfigurationError,
  createSessionFactory,
  type ReplicaHealthEvent,
  type SessionFactory,
} from '@sessionfactory/core';
import type { Adapter, ReplicationSupport } from '@sessionfactory/core/adapter';
import { type FakeAdapter, fakeAdapter } from '@sessionfactory/core/testing';
import { CompiledQuery } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';

// ReplicationSupport.replicaLag: the lag read by a second statement (MySQL's SHOW SLAVE STATUS)
// instead of the status query's lag_ms. The fakes keep the position and the lag in two tables.
interface DB {
  item: { id: number };
}

const fakes: FakeAdapter[] = [];
const factories: SessionFactory<DB>[] = [];

afterEach(async () => {
  await Promise.all(factories.splice(0).map((sf) => sf.close({ timeoutMs: 2000 })));
  for (const fake of fakes.splice(0)) fake.dispose();
});

async function newFake(lagSeconds: number | null): Promise<FakeAdapter> {
  const fake = fakeAdapter();
  fakes.push(fake);
  const connection = await fake.connect();
  for (const statement of [
    'CREATE TABLE item (id INTEGER PRIMARY KEY)',
    'CREATE TABLE sf_position (position TEXT)',
    "INSERT INTO sf_position VALUES ('1')",
    'CREATE TABLE sf_slave_status (seconds_behind REAL)',
  ]) {
    await connection.execute(CompiledQuery.raw(statement));
  }
  await connection.execute(CompiledQuery.raw('INSERT INTO sf_slave_status VALUES (?)', [lagSeconds]));
  await connection.close();
  fake.reset();
  return fake;
}

async function setup(lagSeconds: number | null) {
  const primary = await newFake(0);
  const replica = await newFake(lagSeconds);
  const replication: ReplicationSupport = {
    positionSql: 'SELECT position FROM sf_position',
    // lag_ms here says 0; the separate lag statement must win.
    replicaStatusSql: 'SELECT position, 0 AS lag_ms FROM sf_position',
    replicaLag: {
      sql: 'SELECT seconds_behind FROM sf_slave_status',
      lagMs: (row) => (row?.seconds_behind === null ? undefined : Number(row?.seconds_behind) * 1000),
    },
    isPosition: (token) => /^\d+$/.test(token),
    hasReached: (replayed, target) => Number(replayed) >= Number(target),
    combine: (a, b) => (Number(a) >= Number(b) ? a : b),
    replicaAdapter: (url) => {
      if (url !== 'fake://replica') throw new ConfigurationError(`no fake at ${url}`);
      return replica;
    },
  };
  const adapter: Adapter = { ...primary, replication };
  const sf = createSessionFactory<DB>(adapter, { replicas: ['fake://replica'], maxReplicaLagMs: 5000 });
  factories.push(sf);
  const health: ReplicaHealthEvent[] = [];
  sf.on('replica', (event) => health.push(event));
  const read = () => sf.session(async (tx) => tx.info.server, { readOnly: true });
  return { replica, health, read };
}

describe('ReplicationSupport.replicaLag', () => {
  it('reads the lag with its own statement: a replica 10 s behind is skipped as lagging', async () => {
    const { replica, health, read } = await setup(10);
    expect(await read()).toBe('primary');
    expect(health).toEqual([expect.objectContaining({ server: 'replica:0', state: 'lagging', lagMs: 10_000 })]);
    expect(replica.statements).toContain('SELECT seconds_behind FROM sf_slave_status');
  });

  it('a replica within maxReplicaLagMs serves reads', async () => {
    const { read } = await setup(1);
    expect(await read()).toBe('replica:0');
  });

  it('an unknown lag (NULL) does not mark the replica lagging', async () => {
    const { health, read } = await setup(null);
    expect(await read()).toBe('replica:0');
    expect(health).toEqual([]);
  });
});
