import {
  ConfigurationError,
  createSessionFactory,
  type FactoryOptions,
  type ReplicaHealthEvent,
  type RouteEvent,
  type SessionFactory,
} from '@sessionfactory/core';
import type { Adapter, ReplicationSupport } from '@sessionfactory/core/adapter';
import { type FakeAdapter, fakeAdapter } from '@sessionfactory/core/testing';
import { CompiledQuery, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';

// Core's replica routing against fake adapters: each fake is its own database, and a one-row
// table `sf_status` holds what the fake "server" reports: the primary's position, a replica's
// replayed position and lag. Positions are decimal numbers as strings.
interface DB {
  item: { id: number; name: string };
  sf_status: { position: string; lag_ms: number };
}

const fakeReplication = (urls: Map<string, FakeAdapter>): ReplicationSupport => ({
  positionSql: 'SELECT position FROM sf_status',
  replicaStatusSql: 'SELECT position, lag_ms FROM sf_status',
  isPosition: (token) => /^\d+$/.test(token),
  hasReached: (replayed, target) => Number(replayed) >= Number(target),
  combine: (a, b) => (Number(a) >= Number(b) ? a : b),
  replicaAdapter: (url) => {
    const adapter = urls.get(url);
    if (!adapter) throw new ConfigurationError(`no fake at ${url}`);
    return adapter;
  },
});

const fakes: FakeAdapter[] = [];
const factories: SessionFactory<DB>[] = [];

async function newFake(position: string, lagMs = 0): Promise<FakeAdapter> {
  const fake = fakeAdapter();
  fakes.push(fake);
  const connection = await fake.connect();
  await connection.execute(CompiledQuery.raw('CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)'));
  await connection.execute(CompiledQuery.raw('CREATE TABLE sf_status (position TEXT, lag_ms REAL)'));
  await connection.execute(CompiledQuery.raw('INSERT INTO sf_status VALUES (?, ?)', [position, lagMs]));
  await connection.close();
  fake.reset();
  return fake;
}

async function setStatus(fake: FakeAdapter, position: string, lagMs = 0): Promise<void> {
  const connection = await fake.connect();
  await connection.execute(CompiledQuery.raw('UPDATE sf_status SET position = ?, lag_ms = ?', [position, lagMs]));
  await connection.close();
}

interface Setup {
  primary: FakeAdapter;
  replicas: FakeAdapter[];
  sf: SessionFactory<DB>;
  routes: RouteEvent[];
  health: ReplicaHealthEvent[];
}

async function setup(replicaPositions: string[], options: Omit<FactoryOptions, 'replicas'> = {}): Promise<Setup> {
  const primary = await newFake('1');
  const replicas = await Promise.all(replicaPositions.map((p) => newFake(p)));
  const urls = new Map(replicas.map((r, i) => [`fake://replica-${i}`, r]));
  const adapter: Adapter = { ...primary, replication: fakeReplication(urls) };
  const sf = createSessionFactory<DB>(adapter, { ...options, replicas: [...urls.keys()] });
  factories.push(sf);
  const routes: RouteEvent[] = [];
  const health: ReplicaHealthEvent[] = [];
  sf.on('route', (e) => routes.push(e));
  sf.on('replica', (e) => health.push(e));
  return { primary, replicas, sf, routes, health };
}

const writeAt = (sf: SessionFactory<DB>, position: string, id: number) =>
  sf.session(async (tx) => {
    await tx
      .insertInto('item')
      .values({ id, name: `item ${id}` })
      .execute();
    // the fake primary "advances its WAL" inside the transaction
    await tx.updateTable('sf_status').set({ position }).execute();
  });

const readServer = (sf: SessionFactory<DB>, options: { after?: string } = {}) =>
  sf.session(async (tx) => tx.info.server, { readOnly: true, ...options });

afterEach(async () => {
  for (const sf of factories.splice(0)) await sf.close();
  for (const fake of fakes.splice(0)) fake.dispose();
});

describe('replica routing (fake adapters)', () => {
  it('read-only sessions run on a replica with BEGIN READ ONLY; writes on the primary', async () => {
    const { sf, primary, replicas, routes } = await setup(['1']);
    expect(await sf.session(async (tx) => tx.info.server)).toBe('primary');
    expect(await readServer(sf)).toBe('replica:0');
    expect(replicas[0]!.statements).toContain('BEGIN READ ONLY');
    expect(replicas[0]!.statements).not.toContain('BEGIN READ WRITE');
    expect(primary.statements).toContain('BEGIN READ WRITE');
    expect(routes.map((r) => `${r.server}/${r.reason}`)).toEqual(['primary/write', 'replica:0/replica']);
  });

  it('spreads reads over healthy replicas in turn', async () => {
    const { sf } = await setup(['1', '1']);
    const servers = [];
    for (let i = 0; i < 4; i++) servers.push(await readServer(sf));
    expect(servers).toEqual(['replica:0', 'replica:1', 'replica:0', 'replica:1']);
  });

  it('sf.db outside a session: SELECT on a replica, writes and raw SQL on the primary', async () => {
    const { sf, primary, replicas, routes } = await setup(['1']);
    await sf.db.selectFrom('item').selectAll().execute();
    expect(replicas[0]!.statements.some((s) => s.startsWith('select * from "item"'))).toBe(true);
    await sf.db.insertInto('item').values({ id: 1, name: 'a' }).execute();
    expect(primary.statements.some((s) => s.startsWith('insert into "item"'))).toBe(true);
    await sql`select 1`.execute(sf.db);
    expect(primary.statements).toContain('select 1');
    await sf.db
      .selectFrom('item')
      .selectAll()
      .forUpdate()
      .execute()
      .catch(() => undefined);
    expect(primary.statements.some((s) => s.includes('for update'))).toBe(true);
    expect(routes.map((r) => r.server)).toEqual(['replica:0', 'primary', 'primary', 'primary']);
  });

  it('records the primary position after a write session; consistencyToken returns it', async () => {
    const { sf, primary, replicas } = await setup(['1']);
    expect(sf.consistencyToken()).toBeUndefined();
    await writeAt(sf, '7', 1);
    expect(sf.consistencyToken()).toBe('7');
    const commit = primary.statements.indexOf('COMMIT');
    expect(primary.statements[commit + 1]).toBe('SELECT position FROM sf_status');
    // a read-write session that only ran plain SELECTs records nothing
    primary.reset();
    await sf.session(async (tx) => tx.selectFrom('item').selectAll().execute());
    expect(primary.statements).toEqual(['BEGIN READ WRITE', 'select * from "item"', 'COMMIT']);
    // raw SQL may write: it counts as a write
    primary.reset();
    await sf.session(async (tx) => sql`select 1`.execute(tx));
    expect(primary.statements).toEqual(['BEGIN READ WRITE', 'select 1', 'COMMIT', 'SELECT position FROM sf_status']);
    // a read-only session records nothing (and with the replica caught up, never touches the primary)
    await setStatus(replicas[0]!, '7');
    primary.reset();
    await sf.session(async (tx) => tx.selectFrom('item').selectAll().execute(), { readOnly: true });
    expect(primary.statements).toEqual([]);
  });

  it('read-your-writes: a replica behind the last write is not used (replicaWaitMs 0 → primary)', async () => {
    const { sf, replicas, routes } = await setup(['1'], { replicaWaitMs: 0 });
    await writeAt(sf, '5', 1);
    expect(await readServer(sf)).toBe('primary');
    expect(routes.at(-1)).toMatchObject({ server: 'primary', reason: 'behind', position: '5' });
    await setStatus(replicas[0]!, '5');
    // the status is re-read because the cached position does not reach the target
    expect(await readServer(sf)).toBe('replica:0');
    const names = await sf.session(async (tx) => tx.selectFrom('item').select('name').execute(), { readOnly: true });
    expect(names).toEqual([]); // the fake replica is a separate database: the row lives on the primary only
  });

  it('read-your-writes: waits up to replicaWaitMs for a replica to catch up', async () => {
    const { sf, replicas, routes } = await setup(['1'], { replicaWaitMs: 2000 });
    await writeAt(sf, '9', 1);
    const catchUp = new Promise<void>((resolve) =>
      setTimeout(() => void setStatus(replicas[0]!, '9').then(resolve), 100),
    );
    const started = performance.now();
    expect(await readServer(sf)).toBe('replica:0');
    await catchUp;
    const route = routes.at(-1)!;
    expect(route).toMatchObject({ server: 'replica:0', reason: 'caught-up', position: '9' });
    expect(route.waitedMs).toBeGreaterThanOrEqual(90);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('read-your-writes: gives up after replicaWaitMs and reads the primary', async () => {
    const { sf, routes } = await setup(['1'], { replicaWaitMs: 150 });
    await writeAt(sf, '9', 1);
    const started = performance.now();
    expect(await readServer(sf)).toBe('primary');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1500);
    expect(routes.at(-1)).toMatchObject({ server: 'primary', reason: 'behind' });
  });

  it('after: a token from another factory gives the same guarantee', async () => {
    const { sf: writer } = await setup(['1']);
    await writeAt(writer, '12', 1);
    const token = writer.consistencyToken()!;
    const { sf: reader, replicas } = await setup(['10'], { replicaWaitMs: 0 });
    expect(await readServer(reader)).toBe('replica:0');
    expect(await readServer(reader, { after: token })).toBe('primary');
    await setStatus(replicas[0]!, '12');
    expect(await readServer(reader, { after: token })).toBe('replica:0');
  });

  it('after: a malformed token is a ConfigurationError, whatever it holds', async () => {
    const { sf } = await setup(['1']);
    await expect(readServer(sf, { after: "1'; drop table item; --" })).rejects.toThrow(ConfigurationError);
    await expect(sf.session(async () => 1, { after: 42 as unknown as string })).rejects.toThrow(/Invalid after/);
  });

  it('a replica that cannot connect is skipped, reported down, and retried later', async () => {
    const { sf, replicas, health, routes } = await setup(['1']);
    const opened = replicas[0]!.connections.length; // setup's own connection
    replicas[0]!.fail({ match: 'CONNECT', error: 'CONNECTION' });
    expect(await readServer(sf)).toBe('primary');
    expect(routes.at(-1)).toMatchObject({ server: 'primary', reason: 'no-replica' });
    expect(health).toEqual([expect.objectContaining({ server: 'replica:0', state: 'down' })]);
    const retryAt = health[0]!.retryAt!;
    // not retried before retryAt: no connect attempt at all
    expect(await readServer(sf)).toBe('primary');
    expect(replicas[0]!.connections).toHaveLength(opened);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, retryAt - Date.now()) + 20));
    expect(await readServer(sf)).toBe('replica:0');
    expect(health.at(-1)).toMatchObject({ server: 'replica:0', state: 'up' });
  });

  it('a replica lagging more than maxReplicaLagMs is skipped', async () => {
    const { sf, replicas, health } = await setup(['1', '1'], { maxReplicaLagMs: 1000 });
    await setStatus(replicas[0]!, '1', 5000);
    const servers = [await readServer(sf), await readServer(sf), await readServer(sf)];
    expect(servers).toEqual(['replica:1', 'replica:1', 'replica:1']);
    expect(health).toEqual([expect.objectContaining({ server: 'replica:0', state: 'lagging', lagMs: 5000 })]);
  });

  it('with every replica lagging, reads go to the primary', async () => {
    const { sf, replicas, routes } = await setup(['1'], { maxReplicaLagMs: 10 });
    await setStatus(replicas[0]!, '1', 50);
    expect(await readServer(sf)).toBe('primary');
    expect(routes.at(-1)).toMatchObject({ reason: 'no-replica' });
  });

  it('a failing position query leaves the position unknown: the next read fetches it first', async () => {
    const { sf, primary, replicas } = await setup(['3'], { replicaWaitMs: 0 });
    const errors: string[] = [];
    sf.on('error', (e) => errors.push(e.phase));
    primary.fail({ match: 'SELECT position FROM sf_status', error: 'SQL_SYNTAX' });
    await writeAt(sf, '5', 1); // the session still commits
    expect(errors).toEqual(['replicas.position']);
    expect(await readServer(sf)).toBe('primary'); // fetched 5 first; the replica has 3
    expect(sf.consistencyToken()).toBe('5');
    await setStatus(replicas[0]!, '5');
    expect(await readServer(sf)).toBe('replica:0');
  });

  it('a sync write session also protects the next read (position fetched before routing)', async () => {
    const { sf, replicas } = await setup(['1'], { replicaWaitMs: 0 });
    sf.syncSession((tx) => {
      tx.run(tx.db.updateTable('sf_status').set({ position: '4' }));
    });
    expect(await readServer(sf)).toBe('primary');
    expect(sf.consistencyToken()).toBe('4');
    await setStatus(replicas[0]!, '4');
    expect(await readServer(sf)).toBe('replica:0');
  });

  it('costs nothing without replicas: no position or status queries', async () => {
    const primary = await newFake('1');
    const sf = createSessionFactory<DB>(primary);
    factories.push(sf);
    await sf.session(async (tx) => tx.insertInto('item').values({ id: 1, name: 'a' }).execute());
    await sf.session(async (tx) => tx.info.server, { readOnly: true });
    await sf.db.selectFrom('item').selectAll().execute();
    expect(primary.statements.filter((s) => s.includes('sf_status'))).toEqual([]);
    expect(sf.consistencyToken()).toBeUndefined();
    // after is accepted and meaningless: the primary has every write
    expect(await sf.session(async (tx) => tx.info.server, { readOnly: true, after: '99' })).toBe('primary');
  });

  it('refuses bad replicas options with ConfigurationError', async () => {
    const primary = await newFake('1');
    const withReplication: Adapter = { ...primary, replication: fakeReplication(new Map()) };
    expect(() => createSessionFactory(withReplication, { replicas: 'fake://x' as never })).toThrow(
      /Invalid replicas: "fake:\/\/x"/,
    );
    expect(() => createSessionFactory(withReplication, { replicas: [42 as never] })).toThrow(/Invalid replicas\[0\]/);
    expect(() => createSessionFactory(primary, { replicas: ['fake://x'] })).toThrow(/does not support read replicas/);
    expect(() => createSessionFactory(withReplication, { replicas: [{ ...primary, dialect: 'other' }] })).toThrow(
      /other adapter, but the primary is fake/,
    );
    expect(() => createSessionFactory(withReplication, { replicas: [], replicaWaitMs: -1 })).toThrow(
      /Invalid replicaWaitMs/,
    );
  });

  it('sf.begin({ readOnly }) runs on a replica; Kysely transactions on sf.db on the primary', async () => {
    const { sf } = await setup(['1']);
    {
      await using s = await sf.begin({ readOnly: true });
      expect(s.info.server).toBe('replica:0');
      await s.commit();
    }
    const inKyselyTx = await sf.db
      .transaction()
      .setAccessMode('read only')
      .execute(async (trx) => trx.selectFrom('item').selectAll().execute());
    expect(inKyselyTx).toEqual([]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('db.connection(): a SELECT may go to a replica; once a write ran it stays on the primary', async () => {
    const { sf, routes } = await setup(['1']);
    await sf.db.connection().execute(async (db) => {
      await db.selectFrom('item').selectAll().execute();
      await db.insertInto('item').values({ id: 1, name: 'a' }).execute();
      expect(await db.selectFrom('item').select('id').execute()).toEqual([{ id: 1 }]);
    });
    expect(routes.map((r) => r.server)).toEqual(['replica:0', 'primary']);
    expect(sf.stats().inUse).toBe(0);
  });

  it('waits for the most advanced of the replicas that are behind', async () => {
    const { sf, replicas, routes } = await setup(['2', '4'], { replicaWaitMs: 3000 });
    await writeAt(sf, '6', 1);
    setTimeout(() => void setStatus(replicas[1]!, '6'), 100);
    expect(await readServer(sf)).toBe('replica:1');
    expect(routes.at(-1)).toMatchObject({ server: 'replica:1', reason: 'caught-up' });
  });

  it("Kysely's 'cancel query' reaches the replica a SELECT runs on", async () => {
    const { sf, primary, replicas } = await setup(['1']);
    replicas[0]!.fail({ match: /^select \* from "item"/, delayMs: 5000 });
    const failed: string[] = [];
    sf.on('query', (e) => e.error && failed.push(`${e.sql.slice(0, 20)}: ${e.error.code}`));
    const started = performance.now();
    const outcome = await sf.db
      .selectFrom('item')
      .selectAll()
      .execute({ signal: AbortSignal.timeout(100), inflightQueryAbortStrategy: 'cancel query' } as never)
      .then(
        () => 'resolved',
        (error: Error) => error.name,
      );
    expect(outcome).toBe('TimeoutError'); // the signal's reason: the strategy is supported
    expect(performance.now() - started).toBeLessThan(2000);
    // the replica's statement was interrupted by its own adapter's cancel, not left running
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(failed).toEqual(['select * from "item": STATEMENT_TIMEOUT']);
    expect(primary.statements.filter((s) => s.startsWith('select'))).toEqual([]);
    expect(sf.stats().inUse).toBe(0);
    expect(await readServer(sf)).toBe('replica:0');
  });

  it('a replica that hangs on its status query is treated as down after 2 s', async () => {
    const { sf, replicas, health, routes } = await setup(['1']);
    replicas[0]!.fail({ match: 'SELECT position, lag_ms FROM sf_status', delayMs: 10_000 });
    const started = performance.now();
    expect(await readServer(sf)).toBe('primary');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(4000);
    expect(health[0]).toMatchObject({ server: 'replica:0', state: 'down' });
    expect(health[0]!.reason).toMatch(/did not answer its status query within 2000 ms/);
    expect(routes.at(-1)).toMatchObject({ reason: 'no-replica' });
  });

  it('parseStatus reads a status row whose columns have other names', async () => {
    const primary = await newFake('1');
    const replica = await newFake('1', 0);
    const support = fakeReplication(new Map([['fake://r', replica]]));
    const adapter: Adapter = {
      ...primary,
      replication: {
        ...support,
        replicaStatusSql: 'SELECT position AS Gtid_Slave_Pos, lag_ms / 1000 AS Seconds_Behind_Master FROM sf_status',
        parseStatus: (row) => ({
          position: row.Gtid_Slave_Pos as string,
          lagMs: row.Seconds_Behind_Master === null ? undefined : Number(row.Seconds_Behind_Master) * 1000,
        }),
      },
    };
    const sf = createSessionFactory<DB>(adapter, { replicas: ['fake://r'], replicaWaitMs: 0, maxReplicaLagMs: 1000 });
    factories.push(sf);
    expect(await readServer(sf)).toBe('replica:0');
    await writeAt(sf, '3', 1);
    expect(await readServer(sf)).toBe('primary'); // Gtid_Slave_Pos 1 < 3
    await setStatus(replica, '3', 5000);
    expect(await readServer(sf)).toBe('primary'); // caught up, but 5 s behind: lagging
    await setStatus(replica, '3', 0);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a lagging replica is checked again after 1 s
    expect(await readServer(sf)).toBe('replica:0');
  });

  it('a replica held while another is tried goes back to its pool (no leak with pool size 1)', async () => {
    const { sf, replicas } = await setup(['2', '6'], { pool: { size: 1, maxOverflow: 0 }, replicaWaitMs: 0 });
    await writeAt(sf, '6', 1);
    expect(await readServer(sf)).toBe('replica:1'); // replica:0 was checked out first, found behind
    await setStatus(replicas[0]!, '6');
    const started = performance.now();
    const servers = [await readServer(sf), await readServer(sf)];
    expect(servers.sort()).toEqual(['replica:0', 'replica:1']);
    expect(performance.now() - started).toBeLessThan(1000); // no checkout waited for a leaked connection
  });
});
