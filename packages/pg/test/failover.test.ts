import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  ConnectionError,
  createSessionFactory,
  type SessionFactory,
  type SessionFactoryError,
} from '@sessionfactory/core';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgres } from '../src/index.js';

// A real primary (5434) and streaming standby (5435) made by scripts/pg-failover-cluster.sh. The
// test promotes the standby, which cannot be undone: it starts a fresh cluster every run, and
// stops it at the end (or, when CI started one and exported PG_FAILOVER_URLS, leaves a fresh one).
const SCRIPT = fileURLToPath(new URL('../../../scripts/pg-failover-cluster.sh', import.meta.url));
const PRIMARY_PORT = 5434;
const STANDBY_PORT = 5435;

function cluster(command: 'start' | 'stop' | 'stop-primary' | 'promote'): string {
  return execFileSync(SCRIPT, [command], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

interface DB {
  item: { id: number; note: string };
  run_log: { label: string };
}

let urls: string;
const factories: SessionFactory<DB>[] = [];

function factory(target: string, retryAttempts?: number): SessionFactory<DB> {
  const sf = createSessionFactory<DB>(postgres(`${urls}?target_session_attrs=${target}&connect_timeout=2`), {
    pool: { size: 4, timeoutMs: 10_000 },
    ...(retryAttempts === undefined
      ? {}
      : { session: { retry: { attempts: retryAttempts, baseDelayMs: 100, maxDelayMs: 500 } } }),
  });
  factories.push(sf);
  return sf;
}

async function serverPort(sf: SessionFactory<DB>, readOnly = false): Promise<number> {
  return sf.session(
    async (tx) => Number((await sql<{ port: number }>`select inet_server_port() as port`.execute(tx)).rows[0]?.port),
    { readOnly },
  );
}

/** Polls `check` every 50 ms until it is true, up to `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function onStandby<T>(query: string): Promise<T[]> {
  const client = new pg.Client({ host: '127.0.0.1', port: STANDBY_PORT, user: 'postgres', database: 'test' });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(query)).rows as T[];
  } finally {
    await client.end();
  }
}

beforeAll(() => {
  if (process.env.CI && !process.env.PG_FAILOVER_URLS) {
    throw new Error('PG_FAILOVER_URLS is not set: .ci/run must start scripts/pg-failover-cluster.sh and export it');
  }
  const output = cluster('start');
  const line = /^PG_FAILOVER_URLS=(.*)$/m.exec(output);
  if (!line?.[1]) throw new Error(`scripts/pg-failover-cluster.sh start printed no PG_FAILOVER_URLS:\n${output}`);
  urls = line[1];
}, 150_000);

afterAll(async () => {
  await Promise.all(factories.map((sf) => sf.close({ timeoutMs: 2_000 })));
  // Leave what was there before: a fresh cluster for CI's later steps, else nothing.
  cluster(process.env.PG_FAILOVER_URLS ? 'start' : 'stop');
}, 150_000);

describe('multi-host failover on a real primary and standby', () => {
  it('fails over: in-flight sessions fail with ConnectionError, retried ones run once, new ones reach the promoted standby', async () => {
    const primary = factory('read-write');
    // Enough attempts (about 25 s of backoff) to outlast the promotion on a busy machine.
    const withRetry = factory('read-write', 100);
    const anyHost = factory('any');
    const standby = factory('standby');

    await primary.connection(async (db) => {
      await sql`create table item (id integer primary key, note text not null)`.execute(db);
      await sql`create table run_log (label text not null)`.execute(db);
    });
    await primary.session((tx) => tx.insertInto('item').values({ id: 1, note: 'before' }).execute());
    expect(await serverPort(primary)).toBe(PRIMARY_PORT);
    expect(await serverPort(anyHost)).toBe(PRIMARY_PORT);
    // target_session_attrs=standby skips the primary (first in the list) for the standby.
    expect(await serverPort(standby, true)).toBe(STANDBY_PORT);
    await until(async () => (await onStandby('select 1 from item where id = 1')).length === 1, 10_000, 'replication');

    // Two sessions in flight on the primary when it dies: one without retry, one with.
    let plainStarted = false;
    const plain = primary.session(async (tx) => {
      await tx.insertInto('item').values({ id: 2, note: 'lost' }).execute();
      plainStarted = true;
      await sql`select pg_sleep(60)`.execute(tx);
    });
    const plainOutcome = plain.then(
      () => undefined,
      (error: unknown) => error,
    );
    let attempts = 0;
    let retriedStarted = false;
    const retried = withRetry.session(async (tx) => {
      attempts += 1;
      await tx.insertInto('run_log').values({ label: 'retried unit' }).execute();
      retriedStarted = true;
      if (attempts === 1) await sql`select pg_sleep(60)`.execute(tx);
      return Number((await sql<{ port: number }>`select inet_server_port() as port`.execute(tx)).rows[0]?.port);
    });
    await until(async () => plainStarted && retriedStarted, 10_000, 'both sessions running');

    cluster('stop-primary');
    const error = (await plainOutcome) as SessionFactoryError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.commitOutcomeUnknown).toBe(false);

    // Standby still read-only: a read-write session finds no host that fits.
    const beforePromotion = await primary.session(async () => 'ran').catch((e: unknown) => e);
    expect(beforePromotion).toBeInstanceOf(ConnectionError);
    expect((beforePromotion as Error).message).toMatch(/127\.0\.0\.1:5435 \(read-only\)/);

    cluster('promote');
    // New sessions reach the new primary within seconds, with no change to the factory.
    const promotedAt = Date.now();
    await until(async () => (await serverPort(primary)) === STANDBY_PORT, 5_000, 'a session on the new primary');
    expect(Date.now() - promotedAt).toBeLessThan(5_000);
    await primary.session((tx) => tx.insertInto('item').values({ id: 3, note: 'after' }).execute());

    // The retried unit ran again on the new primary; its first attempt was rolled back with its server.
    expect(await retried).toBe(STANDBY_PORT);
    expect(attempts).toBeGreaterThanOrEqual(2);
    const log = await primary.session((tx) => tx.selectFrom('run_log').select('label').execute());
    expect(log).toEqual([{ label: 'retried unit' }]);

    const items = await primary.session((tx) => tx.selectFrom('item').select(['id', 'note']).orderBy('id').execute());
    expect(items).toEqual([
      { id: 1, note: 'before' },
      { id: 3, note: 'after' },
    ]);

    // target_session_attrs=any: reads keep working, now on the only server left.
    expect(await serverPort(anyHost, true)).toBe(STANDBY_PORT);
    const seen = await anyHost.session((tx) => tx.selectFrom('item').select('id').orderBy('id').execute(), {
      readOnly: true,
    });
    expect(seen.map((row) => row.id)).toEqual([1, 3]);
    // No standby is left: a new connection for target_session_attrs=standby says so, naming the
    // hosts. (The role is checked when a connection opens, as libpq does: a connection opened
    // before the promotion stays in the pool, hence a new factory here.)
    const noStandby = await factory('standby')
      .session(async () => 'ran', { readOnly: true })
      .catch((e: unknown) => e);
    expect(noStandby).toBeInstanceOf(ConnectionError);
    expect((noStandby as Error).message).toMatch(
      /127\.0\.0\.1:5434 \(.*ECONNREFUSED.*\); 127\.0\.0\.1:5435 \(not a standby\)/,
    );
  }, 120_000);
});
