import { createSessionFactory, type FactoryOptions, type SessionFactory } from '@sessionfactory/core';
import type { Kit } from '../kits/kit.js';
import { type BenchDB, type Dialect, itemId } from '../schema.js';
import {
  knexUnitBody,
  preparedUnit,
  preparedUnitBody,
  selectOne,
  syncUnitBuilder,
  syncUnitPrepared,
  unitBody,
} from '../workloads.js';

/** Who the row measures; the chart colours bars by it. */
export type Role = 'raw' | 'sf' | 'kysely' | 'knex';

/** A variant made ready in its child process: the operation, and how to shut it down. */
export interface Running {
  readonly op: (i: number) => unknown;
  close(): Promise<void>;
}

export interface IsoVariant {
  readonly name: string;
  readonly role: Role;
  /** Builds the variant in the child process (only this variant's clients are opened there). */
  readonly open: (kit: Kit) => Running | Promise<Running>;
}

/** A target on one row: a minimum ratio to raw, and/or not below another row's ratio. */
export interface IsoTarget {
  readonly issue: number;
  readonly variant: string;
  readonly min?: number;
  /** The row whose ratio this one must reach (issue 12: never behind Kysely). */
  readonly notBelow?: string;
}

/** Variants of one workload on one database at one concurrency; the first is the raw baseline. */
export interface IsoGroup {
  /** Unique key, also the child's argument, e.g. `postgres/unit/16`. */
  readonly key: string;
  readonly dialect: Dialect;
  /** e.g. `unit of work` */
  readonly workload: string;
  /** Closed-loop workers. */
  readonly concurrency: number;
  readonly variants: readonly IsoVariant[];
  readonly targets: readonly IsoTarget[];
  /** A ratio the chart marks across the whole group (issue 12's 0.90x), not only on the rows that carry it. */
  readonly targetLine?: number;
}

export const UNIT = 'unit of work';
export const POINT = 'point select outside a session';
export const KYSELY_TX = 'Kysely db.transaction()';
export const KNEX_TX = 'Knex knex.transaction()';

/** The concurrencies issue 12 asks for on Postgres and MySQL. */
export const SERVER_CONCURRENCY = [1, 16] as const;

const noClose = async () => {};

/** A factory with the default configuration; Postgres/MySQL: the pool of 10 every variant gets. */
function factory(kit: Kit, options: FactoryOptions = {}): SessionFactory<BenchDB> {
  return createSessionFactory<BenchDB>(kit.adapter(), { pool: kit.concurrencyPool, ...options });
}

function withFactory(
  kit: Kit,
  op: (sf: SessionFactory<BenchDB>) => (i: number) => unknown,
  options?: FactoryOptions,
): Running {
  const sf = factory(kit, options);
  return { op: op(sf), close: () => sf.close() };
}

const raw = (name: string): IsoVariant => ({
  name,
  role: 'raw',
  open: (kit) => ({ op: (i) => kit.rawUnit(itemId(i)), close: noClose }),
});

const kyselyTx: IsoVariant = {
  name: KYSELY_TX,
  role: 'kysely',
  open: (kit) => ({
    op: (i) => kit.kysely.transaction().execute((trx) => unitBody(trx, itemId(i))),
    close: noClose,
  }),
};

const knexTx: IsoVariant = {
  name: KNEX_TX,
  role: 'knex',
  open: async (kit) => {
    const knex = await kit.knex();
    return { op: (i) => knex.transaction((trx) => knexUnitBody(trx, itemId(i))), close: () => knex.destroy() };
  },
};

const sessionBuilder = (name: string): IsoVariant => ({
  name,
  role: 'sf',
  open: (kit) => withFactory(kit, (sf) => (i) => sf.session((tx) => unitBody(tx, itemId(i)))),
});

/** Issue 12: the unit of work on Postgres or MySQL at one concurrency. */
function serverUnit(dialect: 'postgres' | 'mysql', concurrency: number): IsoGroup {
  const rawName =
    dialect === 'postgres' ? 'raw pg.Pool, hand-written BEGIN/COMMIT' : 'raw mysql2 pool, hand-written BEGIN/COMMIT';
  return {
    key: `${dialect}/unit/${concurrency}`,
    dialect,
    workload: UNIT,
    concurrency,
    variants: [raw(rawName), sessionBuilder('sf.session'), kyselyTx, knexTx],
    targets: [
      { issue: 12, variant: 'sf.session', min: 0.9 },
      { issue: 12, variant: 'sf.session', notBelow: KYSELY_TX },
    ],
    targetLine: 0.9,
  };
}

/** Issue 10: the SQLite unit of work, one worker (better-sqlite3 is synchronous). */
function sqliteUnit(): IsoGroup {
  const prepared = 'sf.session (sf.prepare queries)';
  const syncPrepared = 'sf.syncSession (sf.prepare queries)';
  return {
    key: 'sqlite/unit/1',
    dialect: 'sqlite',
    workload: UNIT,
    concurrency: 1,
    variants: [
      raw('raw better-sqlite3, cached statements'),
      {
        name: prepared,
        role: 'sf',
        open: (kit) =>
          withFactory(kit, (sf) => {
            const unit = preparedUnit(sf);
            return (i) => sf.session(() => preparedUnitBody(unit, itemId(i)));
          }),
      },
      sessionBuilder('sf.session (Kysely builder)'),
      {
        name: syncPrepared,
        role: 'sf',
        open: (kit) =>
          withFactory(kit, (sf) => {
            const unit = preparedUnit(sf);
            return (i) => sf.syncSession((tx) => syncUnitPrepared(tx, unit, itemId(i)));
          }),
      },
      {
        name: 'sf.syncSession (Kysely builder)',
        role: 'sf',
        open: (kit) => withFactory(kit, (sf) => (i) => sf.syncSession((tx) => syncUnitBuilder(tx, itemId(i)))),
      },
      kyselyTx,
      knexTx,
    ],
    targets: [
      { issue: 10, variant: prepared, min: 0.6 },
      { issue: 10, variant: syncPrepared, min: 0.8 },
    ],
  };
}

/** Issue 10: a point select outside any session against better-sqlite3's cached statement. */
function sqlitePoint(): IsoGroup {
  const builder = 'sf.db (Kysely builder)';
  return {
    key: 'sqlite/point/1',
    dialect: 'sqlite',
    workload: POINT,
    concurrency: 1,
    variants: [
      {
        name: 'raw better-sqlite3, cached statement',
        role: 'raw',
        open: (kit) => ({ op: (i) => kit.rawSelect(itemId(i)), close: noClose }),
      },
      { name: builder, role: 'sf', open: (kit) => withFactory(kit, (sf) => (i) => selectOne(sf.db, itemId(i))) },
      {
        name: 'sf.prepare query',
        role: 'sf',
        open: (kit) =>
          withFactory(kit, (sf) => {
            const { select } = preparedUnit(sf);
            return (i) => select.executeTakeFirst({ id: itemId(i) });
          }),
      },
    ],
    targets: [{ issue: 10, variant: builder, min: 0.4 }],
  };
}

/**
 * Issue 15: what OpenTelemetry support costs an application that registers no tracer. The
 * baseline switches telemetry off (`telemetry: false`); the other row is the default with
 * `@opentelemetry/api` installed (core's devDependency here) and no provider registered.
 */
function sqliteTelemetry(): IsoGroup {
  // The default: @opentelemetry/api installed (core's devDependency here), no provider registered.
  const present = 'sf.session, no tracer registered';
  const prepared = (options?: FactoryOptions) => (kit: Kit) =>
    withFactory(
      kit,
      (sf) => {
        const unit = preparedUnit(sf);
        return (i) => sf.session(() => preparedUnitBody(unit, itemId(i)));
      },
      options,
    );
  return {
    key: 'sqlite/telemetry/1',
    dialect: 'sqlite',
    workload: 'telemetry off vs no tracer',
    concurrency: 1,
    variants: [
      { name: 'sf.session, telemetry: false', role: 'raw', open: prepared({ telemetry: false }) },
      { name: present, role: 'sf', open: prepared() },
    ],
    targets: [{ issue: 15, variant: present, min: 0.97 }],
  };
}

/** Every group for the given databases, in the order they run within a round. */
export function isolatedGroups(dialects: readonly string[]): IsoGroup[] {
  const groups: IsoGroup[] = [];
  // Issue 12's servers first, whatever order the databases were listed in.
  for (const dialect of ['postgres', 'mysql', 'sqlite'].filter((d) => dialects.includes(d))) {
    if (dialect === 'postgres' || dialect === 'mysql') {
      for (const c of SERVER_CONCURRENCY) groups.push(serverUnit(dialect, c));
    } else if (dialect === 'sqlite') {
      groups.push(sqliteUnit(), sqlitePoint(), sqliteTelemetry());
    }
  }
  return groups;
}

/** Keeps the groups and variants whose key or name contains `only` (a group keeps its baseline). */
export function filterGroups(groups: readonly IsoGroup[], only: string | undefined): IsoGroup[] {
  if (!only) return [...groups];
  return groups.flatMap((g) => {
    const text = `${g.key} ${g.workload} C=${g.concurrency}`;
    if (text.includes(only)) return [g];
    const kept = g.variants.filter((v, k) => k === 0 || v.name.includes(only));
    return kept.length > 1 ? [{ ...g, variants: kept }] : [];
  });
}
