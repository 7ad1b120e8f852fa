import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlite } from '@sessionfactory/sqlite';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { type BenchDB, createTablesSql, itemId, seedStatements } from '../schema.js';
import { type Kit, loadKnex, packageVersion, SQL } from './kit.js';

/**
 * `synchronous = NORMAL` on both sides, stated explicitly: better-sqlite3's build already makes it
 * the default for WAL databases, where it skips the fsync per COMMIT. Everything else matches
 * the adapter's defaults (WAL, foreign_keys, busy_timeout 5000).
 */
const PRAGMAS = { synchronous: 'NORMAL' } as const;

/** The pragmas every connection of the bench gets (raw, Knex; the adapter sets its own defaults plus PRAGMAS). */
function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`synchronous = ${PRAGMAS.synchronous}`);
}

/**
 * Creates the bench file in a temporary directory and opens a kit on it; with `attach` (a file an
 * earlier call created, in another process) it only opens the kit.
 */
export async function sqliteKit(attach?: string): Promise<Kit> {
  const dir = attach ? undefined : mkdtempSync(join(tmpdir(), 'sf-bench-'));
  const filename = attach ?? join(dir!, 'bench.db');
  const db = new Database(filename);
  configure(db);
  if (!attach) {
    for (const ddl of createTablesSql('sqlite')) db.exec(ddl);
    db.transaction(() => {
      for (const { sql, params } of seedStatements('sqlite')) db.prepare(sql).run(...params);
    })();
  }

  const select = db.prepare(SQL.select);
  const update = db.prepare(SQL.update);
  const insert = db.prepare(SQL.insert);
  const smallTx = db.transaction((id: number) => {
    update.run(id);
    insert.run(id, 'bench');
  });
  const unit = db.transaction((id: number) => {
    select.get(id);
    update.run(id);
  });
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const kysely = new Kysely<BenchDB>({ dialect: new SqliteDialect({ database: db }) });
  const version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;

  return {
    dialect: 'sqlite',
    place: filename,
    version: attach
      ? ''
      : `SQLite ${version} (better-sqlite3 ${packageVersion('better-sqlite3')}; file, WAL, synchronous=NORMAL)`,
    rawName: 'better-sqlite3 (cached stmt, sync)',
    kyselyName: 'Kysely SqliteDialect',
    rawSelect: (id) => select.get(id),
    rawSelectsInTx(n, first) {
      begin.run();
      try {
        for (let i = first; i < first + n; i++) select.get(itemId(i));
      } finally {
        commit.run();
      }
    },
    // better-sqlite3's idiomatic transaction: BEGIN IMMEDIATE, like the adapter's writers.
    rawSmallTx: (id) => smallTx.immediate(id),
    rawSyncTx: (id) => smallTx.immediate(id),
    rawUnit: (id) => unit.immediate(id),
    kysely,
    knex: () =>
      loadKnex({
        client: 'better-sqlite3',
        connection: { filename },
        useNullAsDefault: true,
        pool: {
          afterCreate: (raw: Database.Database, done: (error: unknown, raw: unknown) => void) => {
            configure(raw);
            done(null, raw);
          },
        },
      }),
    adapter: () => sqlite({ filename, pragmas: PRAGMAS }),
    // SQLite's default: 4 connections, one writer at a time (see packages/sqlite/README.md).
    concurrencyPool: {},
    async close() {
      db.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
