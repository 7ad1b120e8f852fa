import { type Kysely, sql } from 'kysely';

/**
 * Runs `SELECT 1 AS v` and returns `v` as a number: proves a connection works.
 *
 * @example
 * ```ts
 * expect(await selectOne(tx)).toBe(1);
 * ```
 */
export async function selectOne(db: Kysely<any>): Promise<number> {
  const result = await sql<{ v: unknown }>`select 1 as v`.execute(db);
  return Number(result.rows[0]?.v);
}

/**
 * Runs a dialect statement given as text (sleep, SET ...).
 *
 * @example
 * ```ts
 * await runRaw(tx, 'SELECT pg_sleep(5)');
 * ```
 */
export async function runRaw(db: Kysely<any>, statement: string): Promise<void> {
  await sql.raw(statement).execute(db);
}

/**
 * The server's id of the connection `db` runs on, from `dialect.connectionIdSql` (column `id`).
 *
 * @example
 * ```ts
 * const pid = await serverConnectionId(tx, 'SELECT pg_backend_pid() AS id');
 * ```
 */
export async function serverConnectionId(db: Kysely<any>, connectionIdSql: string): Promise<number> {
  const result = await sql.raw<{ id: unknown }>(connectionIdSql).execute(db);
  const id = Number(result.rows[0]?.id);
  if (!Number.isFinite(id))
    throw new Error(`dialect.connectionIdSql returned no numeric "id" column: ${connectionIdSql}`);
  return id;
}
