import type { DriverConnection } from '@sessionfactory/core/adapter';
import { CompiledQuery, type QueryResult } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyPostgresError, postgres } from '../src/index.js';
import { createTestSchema, TEST_URL, type TestSchema } from './support/test-database.js';

let schema: TestSchema;
let connection: DriverConnection;

beforeAll(async () => {
  schema = await createTestSchema();
  connection = await postgres({ url: TEST_URL, searchPath: schema.name }).connect();
  await connection.execute(CompiledQuery.raw('CREATE TABLE numbers AS SELECT g AS n FROM generate_series(1, 10) g'));
});

afterAll(async () => {
  await connection?.close();
  await schema.drop();
});

const upTo = (max: number) => CompiledQuery.raw('SELECT n FROM numbers WHERE n <= $1 ORDER BY n', [max]);

async function collect(chunks: AsyncIterable<QueryResult<unknown>>): Promise<unknown[][]> {
  const all: unknown[][] = [];
  for await (const chunk of chunks) all.push([...chunk.rows]);
  return all;
}

async function openCursors(): Promise<unknown[]> {
  // The unnamed portal is this query itself (listed when it runs as a named statement).
  return (await connection.execute(CompiledQuery.raw("SELECT name FROM pg_cursors WHERE name <> ''"))).rows;
}

describe('stream through a server-side cursor', () => {
  it('yields chunks of chunkSize rows with bound parameters, outside a transaction', async () => {
    const chunks = await collect(connection.stream!(upTo(7), 3));
    expect(chunks).toStrictEqual([[{ n: 1 }, { n: 2 }, { n: 3 }], [{ n: 4 }, { n: 5 }, { n: 6 }], [{ n: 7 }]]);
    // The private transaction it needed is over.
    expect(connection.inTransaction?.()).toBe(false);
  });

  it('runs inside the caller transaction and leaves it open, cursor closed', async () => {
    await connection.execute(CompiledQuery.raw('BEGIN'));
    await connection.execute(CompiledQuery.raw('INSERT INTO numbers VALUES (11)'));
    const chunks = await collect(connection.stream!(CompiledQuery.raw('SELECT max(n) AS m FROM numbers'), 5));
    expect(chunks).toStrictEqual([[{ m: 11 }]]);
    expect(connection.inTransaction?.()).toBe(true);
    expect(await openCursors()).toStrictEqual([]);
    await connection.execute(CompiledQuery.raw('ROLLBACK'));
  });

  it('cleans up when the consumer stops early', async () => {
    await connection.execute(CompiledQuery.raw('BEGIN'));
    for await (const chunk of connection.stream!(upTo(10), 2)) {
      expect(chunk.rows).toStrictEqual([{ n: 1 }, { n: 2 }]);
      break;
    }
    expect(await openCursors()).toStrictEqual([]);
    await connection.execute(CompiledQuery.raw('ROLLBACK'));

    for await (const _chunk of connection.stream!(upTo(10), 2)) break;
    expect(connection.inTransaction?.()).toBe(false);
  });

  it('rolls back its private transaction when the query fails, keeping the error', async () => {
    let caught: unknown;
    try {
      await collect(connection.stream!(CompiledQuery.raw('SELECT 1 / (n - 5) FROM numbers'), 2));
    } catch (error) {
      caught = error;
    }
    expect(classifyPostgresError(caught)).toMatchObject({ originalCode: '22012' });
    expect(connection.inTransaction?.()).toBe(false);
    await expect(connection.ping()).resolves.toBeUndefined();
  });

  it('rejects a chunk size that is not a positive integer', async () => {
    await expect(collect(connection.stream!(upTo(1), 0))).rejects.toThrow(RangeError);
  });
});
