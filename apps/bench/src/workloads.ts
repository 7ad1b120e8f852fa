import type { PreparedQuery, SessionFactory, SyncSession } from '@sessionfactory/core';
import type { Knex } from 'knex';
import { type Kysely, sql } from 'kysely';
import type { BenchDB } from './schema.js';

/**
 * The statements every workload is made of, written once: the in-process suite, the
 * one-process-per-variant runs and the queue test all build their queries here, so every row
 * runs the same SQL.
 */

/** SELECT id, name, qty FROM bench_item WHERE id = ? (a builder, for `tx.get` and `.execute*`). */
export function selectById(db: Kysely<BenchDB>, id: number) {
  return db.selectFrom('bench_item').select(['id', 'name', 'qty']).where('id', '=', id);
}

/** UPDATE bench_item SET qty = qty + 1 WHERE id = ? (a builder). */
export function bumpById(db: Kysely<BenchDB>, id: number) {
  return db.updateTable('bench_item').set({ qty: sql<number>`qty + 1` }).where('id', '=', id);
}

/** One point select by primary key. */
export function selectOne(db: Kysely<BenchDB>, id: number) {
  return selectById(db, id).executeTakeFirst();
}

/** The small transaction's body: UPDATE bench_item; INSERT bench_log. */
export async function smallTxBody(tx: Kysely<BenchDB>, id: number): Promise<void> {
  await bumpById(tx, id).execute();
  await tx.insertInto('bench_log').values({ item_id: id, note: 'bench' }).execute();
}

/** The unit of work's body (issues 10 and 12): SELECT by PK; UPDATE by PK. */
export async function unitBody(tx: Kysely<BenchDB>, id: number): Promise<void> {
  await selectOne(tx, id);
  await bumpById(tx, id).execute();
}

/** The unit of work's body in Knex: the same two statements (no LIMIT, like the others). */
export async function knexUnitBody(trx: Knex.Transaction, id: number): Promise<void> {
  await trx('bench_item').select('id', 'name', 'qty').where('id', id);
  await trx('bench_item').where('id', id).increment('qty', 1);
}

/** The unit of work's two statements, compiled once (`sf.prepare`). */
export interface PreparedUnit {
  readonly select: PreparedQuery<{ id: number }, unknown>;
  readonly update: PreparedQuery<{ id: number }, unknown>;
}

const preparedUnits = new WeakMap<SessionFactory<BenchDB>, PreparedUnit>();

/** The factory's prepared unit-of-work statements (made on first use, then cached per factory). */
export function preparedUnit(sf: SessionFactory<BenchDB>): PreparedUnit {
  let unit = preparedUnits.get(sf);
  if (!unit) {
    unit = {
      select: sf.prepare<{ id: number }, unknown>((db, param) =>
        db.selectFrom('bench_item').select(['id', 'name', 'qty']).where('id', '=', param('id')),
      ),
      update: sf.prepare<{ id: number }, unknown>((db, param) =>
        db.updateTable('bench_item').set({ qty: sql<number>`qty + 1` }).where('id', '=', param('id')),
      ),
    };
    preparedUnits.set(sf, unit);
  }
  return unit;
}

/** The unit of work with `sf.prepare` queries, inside the ambient `sf.session`. */
export async function preparedUnitBody(unit: PreparedUnit, id: number): Promise<void> {
  await unit.select.executeTakeFirst({ id });
  await unit.update.executeQuery({ id });
}

/** The unit of work in a sync scope, with Kysely builders compiled each time. */
export function syncUnitBuilder(tx: SyncSession<BenchDB>, id: number): void {
  tx.get(selectById(tx.db, id));
  tx.run(bumpById(tx.db, id));
}

/** The unit of work in a sync scope, with the prepared queries. */
export function syncUnitPrepared(tx: SyncSession<BenchDB>, unit: PreparedUnit, id: number): void {
  tx.get(unit.select.compile({ id }));
  tx.run(unit.update.compile({ id }));
}
