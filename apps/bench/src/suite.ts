import { type Adapter, createSessionFactory, type FactoryOptions, type SessionFactory } from '@sessionfactory/core';
import type { DriverConnection } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import { type Batch, compare, concurrent, paired, sequential, syncLoop, type Timing, type Variant } from './harness.js';
import { type Kit, pgPlaceholders, SQL } from './kits/kit.js';
import type { Row } from './report.js';
import { type BenchDB, itemId } from './schema.js';
import { bumpById, preparedUnit, selectOne, smallTxBody } from './workloads.js';

/** Concurrent sessions in the throughput case. */
export const WORKERS = 50;

type Target = { readonly min: number; readonly label: string };

interface Case {
  readonly name: string;
  readonly group: string;
  readonly run: Batch;
  /** The row this one is compared with (absent: it is a baseline). */
  readonly vs?: string;
  readonly target?: Target;
  readonly note?: string;
}

function syncTx(sf: SessionFactory<BenchDB>, id: number): void {
  sf.syncSession((tx) => {
    tx.run(bumpById(tx.db, id));
    tx.run(tx.db.insertInto('bench_log').values({ item_id: id, note: 'bench' }));
  });
}

/** The factories one database's cases use: the default configuration and variants of it. */
export interface Factories {
  readonly standard: SessionFactory<BenchDB>;
  readonly noPing: SessionFactory<BenchDB>;
  readonly concurrency: SessionFactory<BenchDB>;
  readonly concurrencyNoPing: SessionFactory<BenchDB>;
  /** Checkout pings the pools actually sent (core may skip pinging a recently used connection). */
  readonly pings: { count: number };
  /** One adapter connection of its own, for timing a bare `ping()`. */
  probe: Promise<DriverConnection> | undefined;
}

/** The adapter, with every connection's `ping` counted (the only change: one counter increment). */
function countingPings(adapter: Adapter, pings: { count: number }): Adapter {
  const wrap = (connection: DriverConnection): DriverConnection => {
    const ping = connection.ping.bind(connection);
    connection.ping = () => {
      pings.count++;
      return ping();
    };
    return connection;
  };
  const { connectSync } = adapter;
  return {
    ...adapter,
    connect: async () => wrap(await adapter.connect()),
    ...(connectSync ? { connectSync: () => wrap(connectSync()) } : {}),
  };
}

export function openFactories(kit: Kit): Factories {
  const pings = { count: 0 };
  const make = (options?: FactoryOptions) =>
    createSessionFactory<BenchDB>(countingPings(kit.adapter(), pings), options);
  return {
    standard: make(),
    noPing: make({ pool: { prePing: false } }),
    concurrency: make({ pool: kit.concurrencyPool }),
    concurrencyNoPing: make({ pool: { ...kit.concurrencyPool, prePing: false } }),
    pings,
    probe: undefined,
  };
}

export async function closeFactories(f: Factories): Promise<void> {
  const factories = [f.standard, f.noPing, f.concurrency, f.concurrencyNoPing];
  await Promise.all(factories.map((sf) => sf.close()));
  const probe = f.probe;
  f.probe = undefined;
  if (probe) await (await probe).close();
}

function cases(kit: Kit, f: Factories): Case[] {
  const d = kit.dialect;
  const server = d !== 'sqlite';
  const sf = f.standard;
  const ps = 'point select by PK';
  const pst = 'point select inside one transaction (per query)';
  const stx = 'small transaction (BEGIN; UPDATE; INSERT; COMMIT)';
  const sync = 'sync scope (same small transaction)';
  const conc = `concurrency: ${WORKERS} concurrent small transactions, pool ${server ? 10 : '4 (SQLite default: one writer slot plus readers)'}`;
  const raw = `raw ${kit.rawName}`;
  const rawTx = `raw ${server ? 'pool checkout + ' : ''}BEGIN/COMMIT`;
  const compiled = (text: string, params: unknown[]) =>
    CompiledQuery.raw(d === 'postgres' ? pgPlaceholders(text) : text, params);
  const list: Case[] = [
    { group: ps, name: raw, run: sequential((i) => kit.rawSelect(itemId(i))) },
    { group: ps, name: kit.kyselyName, vs: raw, run: sequential((i) => selectOne(kit.kysely, itemId(i))) },
    {
      group: ps,
      name: 'sf.db outside a session',
      vs: raw,
      // SQLite's issue-10 target (>= 0.40x) is judged in the one-process-per-variant runs
      // (isolated/variants.ts), not here.
      ...(server ? { target: { min: 0.7, label: '>= 0.70x' } } : {}),
      run: sequential((i) => selectOne(sf.db, itemId(i))),
    },
    {
      group: ps,
      name: 'sf.prepare query outside a session',
      vs: raw,
      run: sequential((i) => preparedUnit(sf).select.executeTakeFirst({ id: itemId(i) })),
    },
    {
      group: ps,
      name: 'sf.db outside a session, prePing off',
      vs: raw,
      run: sequential((i) => selectOne(f.noPing.db, itemId(i))),
    },
    { group: pst, name: rawTx, run: (n, first) => kit.rawSelectsInTx(n, first) },
    {
      group: pst,
      name: 'tx.selectFrom in sf.session',
      vs: rawTx,
      run: (n, first) =>
        sf.session(async (tx) => {
          for (let i = first; i < first + n; i++) await selectOne(tx, itemId(i));
        }),
    },
    {
      group: pst,
      name: 'sf.db (ambient) in sf.session',
      vs: rawTx,
      run: (n, first) =>
        sf.session(async () => {
          for (let i = first; i < first + n; i++) await selectOne(sf.db, itemId(i));
        }),
    },
    { group: stx, name: raw.replace(/#query$/, ''), run: sequential((i) => kit.rawSmallTx(itemId(i))) },
    {
      group: stx,
      name: 'Kysely db.transaction()',
      vs: raw.replace(/#query$/, ''),
      run: sequential((i) => kit.kysely.transaction().execute((trx) => smallTxBody(trx, itemId(i)))),
    },
    {
      group: stx,
      name: 'sf.session',
      vs: raw.replace(/#query$/, ''),
      ...(server ? { target: { min: 0.8, label: '>= 0.80x' } } : {}),
      run: sequential((i) => sf.session((tx) => smallTxBody(tx, itemId(i)))),
    },
    {
      group: stx,
      name: 'sf.session, prePing off',
      vs: raw.replace(/#query$/, ''),
      run: sequential((i) => f.noPing.session((tx) => smallTxBody(tx, itemId(i)))),
    },
  ];
  if (kit.rawSyncTx) {
    const rawSync = 'raw better-sqlite3 db.transaction().immediate';
    list.push(
      { group: sync, name: rawSync, run: syncLoop((i) => kit.rawSyncTx!(itemId(i))) },
      {
        group: sync,
        name: 'sf.syncSession (Kysely builder)',
        vs: rawSync,
        target: { min: 0.5, label: '>= 0.50x' },
        run: syncLoop((i) => syncTx(sf, itemId(i))),
      },
      {
        group: sync,
        name: 'sf.syncSession (CompiledQuery.raw)',
        vs: rawSync,
        run: syncLoop((i) =>
          sf.syncSession((tx) => {
            const id = itemId(i);
            tx.run(compiled(SQL.update, [id]));
            tx.run(compiled(SQL.insert, [id, 'bench']));
          }),
        ),
      },
    );
  } else if (sf.capabilities.sync === 'worker') {
    const rawAsync = `raw ${kit.rawName.replace(/#query$/, '')} (async)`;
    list.push(
      { group: sync, name: rawAsync, run: sequential((i) => kit.rawSmallTx(itemId(i))) },
      {
        group: sync,
        name: 'sf.syncSession (worker bridge)',
        vs: rawAsync,
        note: 'no target',
        run: syncLoop((i) => syncTx(sf, itemId(i))),
      },
    );
  }
  list.push({
    group: 'checkout ping (what prePing sends when it does ping)',
    name: 'adapter connection.ping()',
    run: async (n) => {
      const connection = await (f.probe ??= kit.adapter().connect());
      for (let i = 0; i < n; i++) await connection.ping();
    },
  });
  const rawConc = `raw ${server ? 'driver pool (10)' : 'better-sqlite3'}`;
  list.push(
    { group: conc, name: rawConc, run: concurrent(WORKERS, (i) => kit.rawSmallTx(itemId(i))) },
    {
      group: conc,
      name: 'sf.session',
      vs: rawConc,
      run: concurrent(WORKERS, (i) => f.concurrency.session((tx) => smallTxBody(tx, itemId(i)))),
    },
    {
      group: conc,
      name: 'sf.session, prePing off',
      vs: rawConc,
      run: concurrent(WORKERS, (i) => f.concurrencyNoPing.session((tx) => smallTxBody(tx, itemId(i)))),
    },
  );
  return list;
}

/**
 * Runs every speed case of one database; `only` keeps groups or variants whose name contains it,
 * `variant` keeps the variants with exactly that name (for profiling one of them alone).
 */
export async function runSpeed(
  kit: Kit,
  f: Factories,
  timing: Timing,
  only?: string,
  variant?: string,
): Promise<Row[]> {
  const all = cases(kit, f).filter(
    (c) => (!only || c.group.includes(only) || c.name.includes(only)) && (!variant || c.name === variant),
  );
  const rows: Row[] = [];
  for (const group of [...new Set(all.map((c) => c.group))]) {
    const members = all.filter((c) => c.group === group);
    const started = performance.now();
    let measured: Awaited<ReturnType<typeof compare>>;
    try {
      measured = await compare(
        members.map((c): Variant => ({ name: c.name, run: c.run })),
        timing,
      );
    } catch (error) {
      // One failing group (a library bug, a lost server) must not hide the others.
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      console.error(`  ${kit.dialect}: ${group} FAILED: ${message}`);
      rows.push({
        dialect: kit.dialect,
        group,
        name: members.map((c) => c.name).join(' / '),
        opsPerSec: Number.NaN,
        spread: Number.NaN,
        samples: [],
        cpuUs: Number.NaN,
        baseline: undefined,
        error: message.split('\n')[0]!,
      });
      continue;
    }
    const byName = new Map(measured.map((m) => [m.name, m]));
    for (const c of members) {
      const m = byName.get(c.name)!;
      const base = c.vs ? byName.get(c.vs) : undefined;
      const pair = base ? paired(m.samples, base.samples) : undefined;
      const ratio = pair?.ratio;
      rows.push({
        dialect: kit.dialect,
        group,
        name: c.name,
        opsPerSec: m.opsPerSec,
        spread: m.spread,
        samples: m.samples,
        cpuUs: m.cpuUs,
        ...(base ? { ratio, overheadUs: pair!.overheadUs, baseline: base.name } : { baseline: undefined }),
        ...(c.target ? { target: c.target.label, status: ratio! >= c.target.min ? 'PASS' : 'WARN' } : {}),
        ...(c.note ? { note: c.note } : {}),
      } as Row);
    }
    console.error(`  ${kit.dialect}: ${group} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  return rows;
}
