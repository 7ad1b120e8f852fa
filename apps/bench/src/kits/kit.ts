import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Adapter, PoolOptions } from '@sessionfactory/core';
import type { Knex } from 'knex';
import type { Kysely } from 'kysely';
import type { BenchDB, Dialect } from '../schema.js';

/**
 * One database under test: the raw driver doing each workload by hand (the baseline), Kysely
 * with its own dialect over the same driver (a reference that separates query-builder cost from
 * the library's), and a way to build the library's adapter for the same schema.
 */
export interface Kit {
  readonly dialect: Dialect;
  /** Server/library version, for the report header ('' in a kit attached to an existing place). */
  readonly version: string;
  /**
   * Where the bench tables live (Postgres schema, MySQL database, SQLite file). A child process
   * opens the same kit on it with `attach` (see `open.ts`), without creating or dropping anything.
   */
  readonly place: string;
  /** How the raw baseline talks to the driver, e.g. `pg.Pool#query`. */
  readonly rawName: string;
  readonly kyselyName: string;
  /** One point select by primary key through the driver's own pool (or the one handle). */
  rawSelect(id: number): unknown;
  /** Checkout, BEGIN, `n` point selects on that connection, COMMIT, release. */
  rawSelectsInTx(n: number, first: number): unknown;
  /** BEGIN; UPDATE bench_item; INSERT bench_log; COMMIT (driver pool of 10 where there is one). */
  rawSmallTx(id: number): unknown;
  /** The same small transaction, synchronously (SQLite only). */
  rawSyncTx?(id: number): void;
  /**
   * The unit of work by hand: BEGIN; SELECT by PK; UPDATE by PK; COMMIT. Postgres/MySQL: a
   * connection from the driver's pool of 10, hand-written BEGIN/COMMIT; SQLite: synchronous,
   * cached statements (`db.transaction(fn).immediate`). `acquired` is called as soon as the
   * driver's pool hands out the connection (the queue test checks the pool's order with it).
   */
  rawUnit(id: number, acquired?: () => void): unknown;
  /** Kysely over the raw driver, with Kysely's own dialect (Postgres/MySQL: the same pool of 10). */
  readonly kysely: Kysely<BenchDB>;
  /** Knex over the same database (pool of at most 10; SQLite: Knex's single connection). Loaded on demand. */
  knex(): Promise<Knex>;
  /** A fresh adapter for the bench schema. */
  adapter(): Adapter;
  /** Pool options for the concurrency case (size 10; SQLite's default pool). */
  readonly concurrencyPool: PoolOptions;
  /** Closes the raw driver, and drops the bench schema/database/file unless the kit was attached. */
  close(): Promise<void>;
}

/** Loads Knex only in the processes that use it. */
export async function loadKnex(config: Knex.Config): Promise<Knex> {
  const { default: knex } = await import('knex');
  return knex(config);
}

/** Raw SQL of the workloads; placeholders converted per dialect by `placeholders`. */
export const SQL = {
  select: 'SELECT id, name, qty FROM bench_item WHERE id = ?',
  update: 'UPDATE bench_item SET qty = qty + 1 WHERE id = ?',
  insert: 'INSERT INTO bench_log (item_id, note) VALUES (?, ?)',
} as const;

/** `?` -> `$1, $2, ...` for Postgres. */
export function pgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A schema/database name unique to this run. */
export function benchSchemaName(): string {
  return `sf_bench_${process.pid}_${Date.now().toString(36)}`;
}

const require = createRequire(import.meta.url);

/** The installed version of a driver package (read from its package.json next to its entry point). */
export function packageVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 4; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? '?';
      } catch {
        // not this directory
      }
    }
  } catch {
    // not resolvable
  }
  return '?';
}
