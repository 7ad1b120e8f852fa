// Against a real MariaDB primary and GTID replica (scripts/mariadb-replica.sh, started by .ci/run,
// which exports MARIADB_PRIMARY_URL and MARIADB_REPLICA_URL): read-your-writes by GTID, a paused
// replica (STOP SLAVE SQL_THREAD) waited for with MASTER_GTID_WAIT and then passed over for the
// primary, and a consistency token handed to another factory with `after`.
import { randomBytes } from 'node:crypto';
import {
  ConfigurationError,
  createSessionFactory,
  type FactoryOptions,
  type RouteEvent,
  type SessionFactory,
} from '@sessionfactory/core';
import type { DriverConnection } from '@sessionfactory/core/adapter';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mysql } from '../src/index.js';
import { run } from './support/test-database.js';

const PRIMARY_URL = process.env.MARIADB_PRIMARY_URL ?? 'mysql://root@127.0.0.1:3307/test';
const REPLICA_URL = process.env.MARIADB_REPLICA_URL ?? 'mysql://root@127.0.0.1:3308/test';

interface DB {
  note: { id: number; body: string };
}

const database = `sf_replica_${randomBytes(5).toString('hex')}`;
const inDatabase = (url: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};
const primaryUrl = inDatabase(PRIMARY_URL);
const replicaUrl = inDatabase(REPLICA_URL);

let primaryAdmin: DriverConnection;
let replicaAdmin: DriverConnection;
const factories: SessionFactory<DB>[] = [];
let nextId = 1;

function factory(options: FactoryOptions = {}): SessionFactory<DB> {
  const sf = createSessionFactory<DB>(mysql(primaryUrl), { replicas: [replicaUrl], ...options });
  factories.push(sf);
  return sf;
}

function routes(sf: SessionFactory<DB>): RouteEvent[] {
  const seen: RouteEvent[] = [];
  sf.on('route', (event) => seen.push(event));
  return seen;
}

async function write(sf: SessionFactory<DB>, body: string): Promise<number> {
  const id = nextId++;
  await sf.session((tx) => tx.insertInto('note').values({ id, body }).execute());
  return id;
}

/** A read-only session: where it ran, and whether it saw note `id`. */
function readNote(sf: SessionFactory<DB>, id: number, after?: string) {
  return sf.session(
    async (tx) => {
      const rows = await tx.selectFrom('note').select('body').where('id', '=', id).execute();
      const { rows: port } = await sql<{ port: number }>`SELECT @@port AS port`.execute(tx);
      return { server: tx.info.server, port: port[0]!.port, bodies: rows.map((row) => row.body) };
    },
    { readOnly: true, ...(after === undefined ? {} : { after }) },
  );
}

beforeAll(async () => {
  try {
    primaryAdmin = await mysql(PRIMARY_URL).connect();
    replicaAdmin = await mysql(REPLICA_URL).connect();
  } catch (error) {
    throw new Error(
      `The MariaDB primary/replica pair is not reachable at ${PRIMARY_URL} / ${REPLICA_URL} (${(error as Error).message}). Start it with scripts/mariadb-replica.sh start (.ci/run does) and export MARIADB_PRIMARY_URL and MARIADB_REPLICA_URL.`,
    );
  }
  await run(replicaAdmin, 'START SLAVE');
  // Replicated through the binlog: the replica gets the database and the table too.
  await run(primaryAdmin, `CREATE DATABASE \`${database}\``);
  await run(primaryAdmin, `CREATE TABLE \`${database}\`.note (id INT PRIMARY KEY, body VARCHAR(50) NOT NULL)`);
  const { rows } = await run(primaryAdmin, 'SELECT @@global.gtid_binlog_pos AS position');
  await run(replicaAdmin, 'SELECT MASTER_GTID_WAIT(?, 10)', [rows[0]!.position]);
}, 30_000);

afterEach(async () => {
  await run(replicaAdmin, 'START SLAVE SQL_THREAD');
});

afterAll(async () => {
  await Promise.all(factories.map((sf) => sf.close({ timeoutMs: 5000 }).catch(() => undefined)));
  await run(primaryAdmin, `DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
  await primaryAdmin?.close();
  await replicaAdmin?.close();
});

describe('MariaDB replica, read-your-writes by GTID', () => {
  it('a read-only session after a write runs on the replica and sees the write', async () => {
    const sf = factory({ replicaWaitMs: 5000 });
    const id = await write(sf, 'first');
    expect(sf.consistencyToken()).toMatch(/^\d+-\d+-\d+(,\d+-\d+-\d+)*$/);
    const read = await readNote(sf, id);
    expect(read).toEqual({ server: 'replica:0', port: Number(new URL(REPLICA_URL).port), bodies: ['first'] });
  });

  it('with the replica paused (STOP SLAVE SQL_THREAD), a read after a write waits up to replicaWaitMs, then runs on the primary and sees it', async () => {
    const sf = factory({ replicaWaitMs: 400 });
    const seen = routes(sf);
    await run(replicaAdmin, 'STOP SLAVE SQL_THREAD');
    const id = await write(sf, 'while paused');
    const started = performance.now();
    const read = await readNote(sf, id);
    const elapsed = performance.now() - started;
    expect(read.server).toBe('primary');
    expect(read.bodies).toEqual(['while paused']);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(3000);
    const route = seen.findLast((event) => event.reason !== 'write');
    expect(route).toMatchObject({ server: 'primary', reason: 'behind', position: sf.consistencyToken() });
    expect(route!.waitedMs).toBeGreaterThanOrEqual(350);
    // The replica really is behind: a factory that wrote nothing reads it there without the row.
    const bystander = factory();
    expect(await readNote(bystander, id)).toMatchObject({ server: 'replica:0', bodies: [] });
  });

  it('a replica that catches up while the read waits serves it (MASTER_GTID_WAIT returns)', async () => {
    const sf = factory({ replicaWaitMs: 5000 });
    const seen = routes(sf);
    await run(replicaAdmin, 'STOP SLAVE SQL_THREAD');
    const id = await write(sf, 'caught up');
    setTimeout(() => void run(replicaAdmin, 'START SLAVE SQL_THREAD'), 300);
    const read = await readNote(sf, id);
    expect(read).toMatchObject({ server: 'replica:0', bodies: ['caught up'] });
    expect(seen.findLast((event) => event.reason !== 'write')).toMatchObject({ reason: 'caught-up' });
  });

  it("a token handed to another factory with `after` makes its read see the first factory's write", async () => {
    const writer = factory();
    const reader = factory({ replicaWaitMs: 300 });
    await run(replicaAdmin, 'STOP SLAVE SQL_THREAD');
    const id = await write(writer, 'handed over');
    const token = writer.consistencyToken();
    expect(token).toBeDefined();
    // Without the token the reader has no reason to wait: the paused replica lacks the row.
    expect(await readNote(reader, id)).toMatchObject({ server: 'replica:0', bodies: [] });
    expect(await readNote(reader, id, token)).toMatchObject({ server: 'primary', bodies: ['handed over'] });
    await run(replicaAdmin, 'START SLAVE SQL_THREAD');
    expect(await readNote(reader, id, token)).toMatchObject({ server: 'replica:0', bodies: ['handed over'] });
  });

  it('refuses a malformed token before running anything', async () => {
    const sf = factory();
    const error = await readNote(sf, 1, "0-1-1'; DROP TABLE note; --").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
  });
});
