import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The server the tests run against; override with PG_TEST_URL. */
export const TEST_URL = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema of this run's own, so parallel runs never see each other's tables. */
export interface TestSchema {
  readonly name: string;
  /** Runs SQL as an administrator on a separate connection (setup, killing backends). */
  admin(sql: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

/**
 * Creates a schema with a random suffix and returns it with an admin connection.
 *
 * @example
 * ```ts
 * const schema = await createTestSchema()
 * afterAll(() => schema.drop())
 * ```
 */
export async function createTestSchema(): Promise<TestSchema> {
  const name = `sf_pg_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: TEST_URL });
  client.on('error', () => {});
  await client.connect();
  await client.query(`CREATE SCHEMA ${name}`);
  return {
    name,
    async admin(sql, values = []) {
      return (await client.query(sql, values)).rows;
    },
    async drop() {
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
