// pg rejects a query at its ErrorResponse; the transaction status changes only at the
// ReadyForQuery after it. When the two arrive in separate reads (as PgBouncer often forwards
// them), a failed first statement of a session (sent with BEGIN) must still be rolled back.
// A proxy in front of the server delays whatever follows an ErrorResponse, so the gap that
// happens by chance behind a pooler happens every time here.
import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { createSessionFactory, UniqueViolationError } from '@sessionfactory/core';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgres } from '../src/index.js';
import { createTestSchema, TEST_URL, type TestSchema } from './support/test-database.js';

/** How long the proxy holds back the server's messages after an ErrorResponse. */
const GAP_MS = 50;

let schema: TestSchema;
let proxy: Server;
const sockets = new Set<Socket>();

/**
 * Passes bytes through to the server as they are; from the server, writes one backend message
 * per write and waits GAP_MS after each ErrorResponse ('E') before the next one.
 */
function splittingProxy(target: URL): Server {
  return createServer((client) => {
    const server = tcpConnect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(server);
    client.pipe(server);
    let pending = Buffer.alloc(0);
    let chain = Promise.resolve();
    server.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
        const message = pending.subarray(0, 1 + pending.readInt32BE(1));
        pending = pending.subarray(message.length);
        chain = chain.then(async () => {
          if (!client.destroyed) client.write(message);
          if (message[0] === 0x45) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
        });
      }
    });
    const close = () => {
      client.destroy();
      server.destroy();
    };
    client.on('error', close).on('close', close);
    server.on('error', close).on('close', () => chain.then(close));
  });
}

beforeAll(async () => {
  schema = await createTestSchema();
  await schema.admin(`CREATE TABLE ${schema.name}.account (id int PRIMARY KEY)`);
  proxy = splittingProxy(new URL(TEST_URL));
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  proxy?.close();
  await schema?.drop();
});

function throughProxy(): string {
  const url = new URL(TEST_URL);
  const address = proxy.address();
  if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  return url.toString();
}

describe('a failed statement whose ReadyForQuery comes in a later read', () => {
  it('a failing first statement (sent with BEGIN) is rolled back, and the connection is reused cleanly', async () => {
    const sf = createSessionFactory(
      postgres({ url: throughProxy(), searchPath: schema.name, applicationName: schema.name }),
      {
        pool: { size: 1, maxOverflow: 0 },
      },
    );
    try {
      await sf.session((tx) => tx.executeQuery(CompiledQuery.raw('INSERT INTO account VALUES (1)')));
      const sql: string[] = [];
      sf.on('query', (event) => sql.push(event.sql));
      const error = await sf
        .session((tx) => tx.executeQuery(CompiledQuery.raw('INSERT INTO account VALUES (1)')))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UniqueViolationError);
      expect(sql.at(-1)).toBe('ROLLBACK');
      // The same (only) connection: no aborted transaction reaches the next session.
      const rows = await sf.session(async (tx) => {
        await tx.executeQuery(CompiledQuery.raw('INSERT INTO account VALUES (2)'));
        return (await tx.executeQuery(CompiledQuery.raw('SELECT id FROM account ORDER BY id'))).rows;
      });
      expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await sf.close();
    }
  });

  it('a failing statement inside a session is rolled back as well', async () => {
    const sf = createSessionFactory(
      postgres({ url: throughProxy(), searchPath: schema.name, applicationName: schema.name }),
      {
        pool: { size: 1, maxOverflow: 0 },
      },
    );
    try {
      const sql: string[] = [];
      sf.on('query', (event) => sql.push(event.sql));
      const error = await sf
        .session(async (tx) => {
          await tx.executeQuery(CompiledQuery.raw('SELECT 1'));
          await tx.executeQuery(CompiledQuery.raw('INSERT INTO account VALUES (1)'));
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UniqueViolationError);
      expect(sql.at(-1)).toBe('ROLLBACK');
      const idle = await schema.admin(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND application_name = $1",
        [schema.name],
      );
      expect(idle).toEqual([{ n: 0 }]);
    } finally {
      await sf.close();
    }
  });
});
