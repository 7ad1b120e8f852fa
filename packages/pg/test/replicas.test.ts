import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { inspect } from 'node:util';
import {
  ConfigurationError,
  createSessionFactory,
  type FactoryOptions,
  type ReplicaHealthEvent,
  type RouteEvent,
  type SessionFactory,
  TransactionTimeoutError,
} from '@sessionfactory/core';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postgres } from '../src/index.js';

// Read replicas against a real streaming replica of the local server, started by
// scripts/pg-replica.sh (which .ci/run calls) and found through PG_REPLICA_URL. The tests in this
// file run one after another: pausing WAL replay affects every reader of that replica.
const REPLICA_URL = process.env.PG_REPLICA_URL;
const REQUIRED = process.env.CI !== undefined || process.env.PG_REPLICA_REQUIRED !== undefined;
if (!REPLICA_URL) {
  const message =
    'PG_REPLICA_URL is not set: start the replica with `scripts/pg-replica.sh start` and export the PG_REPLICA_URL it prints.';
  if (REQUIRED) throw new Error(message);
  console.warn(`packages/pg/test/replicas.test.ts: ${message} Skipping (not under CI).`);
}

const PRIMARY = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

interface DB {
  note: { id: number; body: string };
}

async function waitUntil(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A TCP proxy in front of the replica that the test can take down and bring back on the same port. */
class StoppableProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  async start(target: { host: string; port: number }): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = tcpConnect(target.port, target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  /** The replica "stops": the port refuses connections and open ones are cut. */
  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server = undefined;
  }
}

describe.skipIf(!REPLICA_URL)('read replicas on a real streaming replica', () => {
  const replicaUrl = new URL(REPLICA_URL ?? 'postgres://postgres@127.0.0.1:5433/test');
  const schema = `sf_repl_${randomBytes(4).toString('hex')}`;
  const primaryAdmin = new pg.Client({ ...PRIMARY, application_name: `${schema}_admin` });
  const replicaAdmin = new pg.Client({ connectionString: replicaUrl.href, application_name: `${schema}_admin` });
  const factories: SessionFactory<DB>[] = [];
  let nextId = 1;

  /** A factory on our schema with the replica (or `replicas` given) and its routing events. */
  function factory(options: FactoryOptions = {}) {
    const sf = createSessionFactory<DB>(postgres({ ...PRIMARY, searchPath: schema, applicationName: schema }), {
      replicas: [replicaUrl.href],
      ...options,
    });
    factories.push(sf);
    const routes: RouteEvent[] = [];
    const health: ReplicaHealthEvent[] = [];
    sf.on('route', (event) => routes.push(event));
    sf.on('replica', (event) => health.push(event));
    return { sf, routes, health };
  }

  const replicaHas = async (id: number) =>
    (await replicaAdmin.query(`SELECT 1 FROM ${schema}.note WHERE id = $1`, [id])).rowCount === 1;

  async function pauseReplay(): Promise<void> {
    await replicaAdmin.query('SELECT pg_wal_replay_pause()');
    await waitUntil(
      async () => (await replicaAdmin.query('SELECT pg_get_wal_replay_pause_state() AS s')).rows[0].s === 'paused',
    );
  }

  async function resumeReplay(): Promise<void> {
    await replicaAdmin.query('SELECT pg_wal_replay_resume()');
  }

  /** Waits until the replica replayed everything the primary has written so far. */
  async function caughtUp(): Promise<void> {
    const lsn = (await primaryAdmin.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
    await waitUntil(
      async () =>
        (await replicaAdmin.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn])).rows[0].ok === true,
    );
  }

  const insertNote = (sf: SessionFactory<DB>) => {
    const id = nextId++;
    return sf.session(async (tx) => {
      await tx
        .insertInto('note')
        .values({ id, body: `note ${id}` })
        .execute();
      return id;
    });
  };

  const readNote = (sf: SessionFactory<DB>, id: number, options: { after?: string } = {}) =>
    sf.session(
      async (tx) => ({
        server: tx.info.server,
        found: (await tx.selectFrom('note').select('id').where('id', '=', id).execute()).length === 1,
        inRecovery: (await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(tx)).rows[0]!.r,
      }),
      { readOnly: true, ...options },
    );

  beforeAll(async () => {
    await primaryAdmin.connect();
    await replicaAdmin.connect();
    await primaryAdmin.query(`CREATE SCHEMA ${schema}`);
    await primaryAdmin.query(`CREATE TABLE ${schema}.note (id int PRIMARY KEY, body text NOT NULL)`);
    await caughtUp();
  });

  afterEach(async () => {
    await resumeReplay();
    for (const sf of factories.splice(0)) await sf.close();
  });

  afterAll(async () => {
    try {
      await primaryAdmin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await primaryAdmin.end();
      await replicaAdmin.end();
    }
  });

  it('routes read-only sessions to the replica (read-only on the server) and writes to the primary', async () => {
    // a long wait: other test files write to the primary too, and a busy replica may take a while
    const { sf, routes } = factory({ replicaWaitMs: 10_000 });
    const write = await sf.session(async (tx) => ({
      server: tx.info.server,
      inRecovery: (await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(tx)).rows[0]!.r,
    }));
    expect(write).toEqual({ server: 'primary', inRecovery: false });
    const read = await sf.session(
      async (tx) => ({
        server: tx.info.server,
        inRecovery: (await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(tx)).rows[0]!.r,
        readOnly: (await sql<{ t: string }>`show transaction_read_only`.execute(tx)).rows[0],
      }),
      { readOnly: true },
    );
    expect(read).toEqual({ server: 'replica:0', inRecovery: true, readOnly: { transaction_read_only: 'on' } });
    expect(routes.map((r) => r.server)).toEqual(['primary', 'replica:0']);
    expect(['replica', 'caught-up']).toContain(routes[1]!.reason);
  });

  it('sf.db outside a session: a Kysely SELECT runs on the replica, writes and raw SQL on the primary', async () => {
    const { sf, routes } = factory();
    const inRecovery = await sf.db.selectNoFrom(sql<boolean>`pg_is_in_recovery()`.as('r')).executeTakeFirstOrThrow();
    expect(inRecovery.r).toBe(true);
    const id = nextId++;
    await sf.db.insertInto('note').values({ id, body: 'autocommit' }).execute();
    const raw = await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(sf.db);
    expect(raw.rows[0]!.r).toBe(false);
    expect(routes.map((r) => r.server)).toEqual(['replica:0', 'primary', 'primary']);
    // the autocommit insert recorded the position: the next read sees it
    expect(sf.consistencyToken()).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    const found = await sf.db.selectFrom('note').select('id').where('id', '=', id).execute();
    expect(found).toEqual([{ id }]);
  });

  it('read-your-writes with replay paused: falls back to the primary within replicaWaitMs', async () => {
    const { sf, routes } = factory({ replicaWaitMs: 300 });
    await caughtUp();
    await pauseReplay();
    const id = await insertNote(sf);
    const token = sf.consistencyToken()!;
    expect(await replicaHas(id)).toBe(false); // the replica really does not have it
    const started = performance.now();
    const read = await readNote(sf, id);
    const elapsed = performance.now() - started;
    expect(read).toEqual({ server: 'primary', found: true, inRecovery: false });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
    expect(routes.at(-1)).toMatchObject({ server: 'primary', reason: 'behind', position: token });
  });

  it('read-your-writes with replay paused: waits for the replica once replay resumes', async () => {
    const { sf, routes } = factory({ replicaWaitMs: 10_000 });
    await caughtUp();
    await pauseReplay();
    const id = await insertNote(sf);
    const resume = new Promise<void>((resolve) => setTimeout(() => void resumeReplay().then(resolve), 300));
    const started = performance.now();
    const read = await readNote(sf, id);
    await resume;
    expect(read).toEqual({ server: 'replica:0', found: true, inRecovery: true });
    const route = routes.at(-1)!;
    expect(route).toMatchObject({ server: 'replica:0', reason: 'caught-up' });
    expect(route.waitedMs).toBeGreaterThanOrEqual(250);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('a consistency token handed to a second factory (after) gives the same guarantee', async () => {
    const { sf: writer } = factory();
    const { sf: reader } = factory({ replicaWaitMs: 200 });
    await caughtUp();
    await pauseReplay();
    const id = await insertNote(writer);
    const token = writer.consistencyToken()!;
    // without the token the reader has no reason to wait: the replica serves it, without the row
    expect(await readNote(reader, id)).toEqual({ server: 'replica:0', found: false, inRecovery: true });
    // with it, the read sees the write (on the primary, as the replica stays paused)
    expect(await readNote(reader, id, { after: token })).toEqual({ server: 'primary', found: true, inRecovery: false });
    await resumeReplay();
    await caughtUp();
    expect(await readNote(reader, id, { after: token })).toEqual({
      server: 'replica:0',
      found: true,
      inRecovery: true,
    });
  });

  it('a replica nobody listens on: reads succeed on the primary, the replica is reported down', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const deadPort = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const secret = 'n0t-in-any-event';
    const { sf, health, routes } = factory({
      replicas: [`postgres://postgres:${secret}@127.0.0.1:${deadPort}/test`],
    });
    const errors: unknown[] = [];
    sf.on('error', (e) => errors.push(e));
    const id = await insertNote(sf);
    expect(await readNote(sf, id)).toEqual({ server: 'primary', found: true, inRecovery: false });
    expect(await sf.db.selectFrom('note').select('id').where('id', '=', id).execute()).toEqual([{ id }]);
    expect(health[0]).toMatchObject({ server: 'replica:0', state: 'down' });
    for (const seen of [JSON.stringify(health), JSON.stringify(routes), inspect(errors, { depth: 5 }), inspect(sf)]) {
      expect(seen).not.toContain(secret);
    }
    expect(routes.at(-1)).toMatchObject({ server: 'primary', reason: 'no-replica' });
  });

  it('a replica that stops: reads still succeed, and it is used again once it is back', async () => {
    const proxy = new StoppableProxy();
    await proxy.start({ host: replicaUrl.hostname, port: Number(replicaUrl.port) });
    try {
      const { sf, health } = factory({ replicas: [`postgres://postgres@127.0.0.1:${proxy.port}/test`] });
      const id = await insertNote(sf);
      await caughtUp();
      expect((await readNote(sf, id)).server).toBe('replica:0'); // an idle replica connection stays in its pool
      await proxy.stop();
      for (let i = 0; i < 3; i++) {
        expect(await readNote(sf, id)).toEqual({ server: 'primary', found: true, inRecovery: false });
        expect(await sf.db.selectFrom('note').select('id').where('id', '=', id).execute()).toEqual([{ id }]);
      }
      expect(health.map((h) => h.state)).toEqual(['down']);
      await proxy.start({ host: replicaUrl.hostname, port: Number(replicaUrl.port) }); // same port
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, health[0]!.retryAt! - Date.now()) + 50));
      expect((await readNote(sf, id)).server).toBe('replica:0');
      expect(health.map((h) => h.state)).toEqual(['down', 'up']);
    } finally {
      await proxy.stop();
    }
  });

  it('replica backends killed while idle: the next read still succeeds', async () => {
    const { sf } = factory();
    const id = await insertNote(sf);
    await caughtUp();
    expect((await readNote(sf, id)).server).toBe('replica:0');
    await replicaAdmin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [schema],
    );
    const read = await readNote(sf, id);
    expect(read.found).toBe(true);
    expect(await sf.db.selectFrom('note').select('id').where('id', '=', id).execute()).toEqual([{ id }]);
  });

  it('a replica whose backend hangs (SIGSTOP): the read goes to the primary within seconds', async () => {
    const { sf, health } = factory({ pool: { size: 1, maxOverflow: 0 } });
    const id = await insertNote(sf);
    await caughtUp();
    expect((await readNote(sf, id)).server).toBe('replica:0');
    const ours = await replicaAdmin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [schema],
    );
    expect(ours.rows.length).toBe(1);
    for (const { pid } of ours.rows) process.kill(pid, 'SIGSTOP');
    try {
      const next = await insertNote(sf); // a write the replica has not got: the read checks its status
      const started = performance.now();
      expect(await readNote(sf, next)).toEqual({ server: 'primary', found: true, inRecovery: false });
      // 2 s for a hung status query (5 s if the checkout ping is the one that hangs)
      expect(performance.now() - started).toBeLessThan(7000);
    } finally {
      for (const { pid } of ours.rows) process.kill(pid, 'SIGCONT');
    }
    // once it answers again, it is used again
    const retryAt = health.find((h) => h.state === 'down')?.retryAt ?? Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, retryAt - Date.now()) + 50));
    await caughtUp();
    expect((await readNote(sf, id)).server).toBe('replica:0');
  }, 20_000);

  it('a replica lagging more than maxReplicaLagMs is skipped, then used again when it caught up', async () => {
    const { sf: writer } = factory();
    const { sf: reader, health, routes } = factory({ maxReplicaLagMs: 200 });
    await caughtUp();
    await pauseReplay();
    await insertNote(writer); // received but not replayed: the replica falls behind
    await new Promise((resolve) => setTimeout(resolve, 400));
    const read = await reader.session(async (tx) => tx.info.server, { readOnly: true });
    expect(read).toBe('primary');
    expect(health[0]).toMatchObject({ server: 'replica:0', state: 'lagging' });
    expect(health[0]!.lagMs).toBeGreaterThan(200);
    expect(routes.at(-1)).toMatchObject({ reason: 'no-replica' });
    await resumeReplay();
    await caughtUp();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, health[0]!.retryAt! - Date.now()) + 50));
    expect(await reader.session(async (tx) => tx.info.server, { readOnly: true })).toBe('replica:0');
    expect(health.at(-1)).toMatchObject({ state: 'up' });
  });

  it('a replica URL of another kind, or a malformed one, is a ConfigurationError at once', () => {
    expect(() => factory({ replicas: ['mysql://root@127.0.0.1/test'] })).toThrow(ConfigurationError);
    expect(() => factory({ replicas: ['postgres://u:hunter2@host:notaport/db'] })).toThrow(ConfigurationError);
    try {
      factory({ replicas: ['postgres://u:hunter2@host:notaport/db'] });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('a session timeout cancels the statement on the replica it runs on', async () => {
    const { sf } = factory();
    const started = performance.now();
    await expect(
      sf.session(
        async (tx) => {
          expect(tx.info.server).toBe('replica:0');
          await sql`select pg_sleep(5)`.execute(tx);
        },
        { readOnly: true, timeoutMs: 300 },
      ),
    ).rejects.toThrow(TransactionTimeoutError);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(await sf.session(async (tx) => tx.info.server, { readOnly: true })).toBe('replica:0');
  });
});
