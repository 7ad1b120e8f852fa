import type { AdapterCapabilities, FactoryOptions, SessionFactory } from '@sessionfactory/core';
import { it } from 'vitest';
import type { ConformanceDialect, ConformanceTarget } from '../conformance-target.js';
import { type ConformanceDB, clearConformanceTables, createConformanceSchema } from './conformance-schema.js';

/** Default per-case timeout: generous, so a hang shows up as a failed assertion, not a stuck run. */
const CASE_TIMEOUT_MS = 30_000;
/** How long server-side cleanup after a case may take before a session idle in transaction counts as leaked. */
const IDLE_SETTLE_MS = 2_000;

/** A leftover found after a case: a connection still checked out or idle inside a transaction. */
export interface LeakRecord {
  readonly test: string;
  readonly what: string;
  readonly value: number;
}

/** Options of one registered case. */
export interface CaseOptions {
  /** Why the adapter cannot run this case (derived from its capabilities); undefined runs it. */
  readonly skip?: string | undefined;
  readonly timeoutMs?: number;
}

/**
 * Shared state of one `describeConformance` run: the target, the capabilities read at
 * collection time, the factories each case opened (closed after the case), and leak records.
 */
export class SuiteContext {
  readonly leaks: LeakRecord[] = [];
  private readonly opened: SessionFactory<ConformanceDB>[] = [];
  private adminFactory: SessionFactory<ConformanceDB> | undefined;

  private constructor(
    readonly name: string,
    readonly target: ConformanceTarget,
    readonly capabilities: AdapterCapabilities,
    readonly dialectName: string,
  ) {}

  /**
   * Reads the adapter's capabilities from a probe factory (lazy: it opens no connection).
   *
   * @example
   * ```ts
   * const ctx = await SuiteContext.create('pg', await setup());
   * ```
   */
  static async create(name: string, target: ConformanceTarget): Promise<SuiteContext> {
    const probe = target.createFactory();
    const context = new SuiteContext(name, target, probe.capabilities, probe.dialect);
    await probe.close();
    return context;
  }

  /** Separate connections see the same data (a second factory can observe commits). */
  get shared(): boolean {
    return this.capabilities.sharedDatabase;
  }

  get dialect(): ConformanceDialect {
    return this.target.dialect;
  }

  /**
   * The factory that owns the shared schema (only when `sharedDatabase`); created by `prepare`.
   *
   * @example
   * ```ts
   * await seedAccounts(ctx.admin.db);
   * ```
   */
  get admin(): SessionFactory<ConformanceDB> {
    if (!this.adminFactory) throw new Error('the admin factory exists only when capabilities.sharedDatabase is true');
    return this.adminFactory;
  }

  /**
   * Creates the shared schema once (when separate connections share one database).
   *
   * @example
   * ```ts
   * beforeAll(() => ctx.prepare());
   * ```
   */
  async prepare(): Promise<void> {
    if (!this.shared) return;
    this.adminFactory = this.target.createFactory() as SessionFactory<ConformanceDB>;
    await this.adminFactory.connection((db) => createConformanceSchema(db));
  }

  /**
   * Empties the shared tables before a case.
   *
   * @example
   * ```ts
   * beforeEach(() => ctx.reset());
   * ```
   */
  async reset(): Promise<void> {
    if (this.adminFactory) await this.adminFactory.connection((db) => clearConformanceTables(db));
  }

  /**
   * A factory for this case on the run's database, closed after the case. Without a shared
   * database (SQLite `:memory:`) every factory is its own database, so the schema is created on it.
   *
   * @example
   * ```ts
   * const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0, timeoutMs: 200 } });
   * ```
   */
  async open(options?: FactoryOptions): Promise<SessionFactory<ConformanceDB>> {
    const sf = this.track(this.target.createFactory(options));
    if (!this.shared) await sf.connection((db) => createConformanceSchema(db));
    return sf;
  }

  /**
   * Registers a factory created elsewhere so it is checked and closed after the case.
   *
   * @example
   * ```ts
   * const failing = ctx.track(target.failingFactories.unreachable());
   * ```
   */
  track<DB = ConformanceDB>(sf: SessionFactory<any>): SessionFactory<DB> {
    this.opened.push(sf);
    return sf;
  }

  /**
   * Where a case reads what was committed: the admin factory when the database is shared,
   * else the factory under test itself (its pool is the only way into that database).
   *
   * @example
   * ```ts
   * expect(await accountIds(ctx.observer(sf).db)).toEqual([1]);
   * ```
   */
  observer(sf: SessionFactory<ConformanceDB>): SessionFactory<ConformanceDB> {
    return this.shared ? this.admin : sf;
  }

  /**
   * A dialect helper a case cannot run without (its skip reason already ruled out "cannot").
   *
   * @example
   * ```ts
   * const sleep = ctx.helper('sleepSql');
   * ```
   */
  helper<K extends keyof ConformanceDialect>(key: K): NonNullable<ConformanceDialect[K]> {
    const value = this.dialect[key];
    if (value === undefined) {
      throw new Error(
        `ConformanceTarget.dialect.${key} is required: the adapter's capabilities say it can do what this case checks`,
      );
    }
    return value as NonNullable<ConformanceDialect[K]>;
  }

  /**
   * Skip reason for a case that needs server-side helpers: skipped only when they are missing
   * AND the adapter has no server session to act on (`capabilities.cancel === false`).
   *
   * @example
   * ```ts
   * ctx.test('kills a backend', fn, { skip: ctx.serverHelpersSkip(['connectionIdSql', 'killConnection']) });
   * ```
   */
  serverHelpersSkip(keys: readonly (keyof ConformanceDialect)[]): string | undefined {
    const missing = keys.filter((key) => this.dialect[key] === undefined);
    if (missing.length === 0 || this.capabilities.cancel) return undefined;
    return `capabilities.cancel is false and dialect.${missing.join(', dialect.')} is not provided (no server session to act on)`;
  }

  /**
   * The skip reason for a case that needs session state to stay on one server connection
   * between transactions, when `capabilities.sessionState` is false (a transaction pooler such
   * as PgBouncer in `pool_mode = transaction`); `undefined` otherwise.
   *
   * @example
   * ```ts
   * ctx.test('temp table', fn, { skip: ctx.sessionStateSkip('a temporary table lives on one server connection') });
   * ```
   */
  sessionStateSkip(why: string): string | undefined {
    if (this.capabilities.sessionState !== false) return undefined;
    return `capabilities.sessionState is false (transaction pooling): ${why}`;
  }

  /**
   * Registers one case; a skip reason turns it into a skipped test whose title and console
   * output carry the reason.
   *
   * @example
   * ```ts
   * ctx.test('read-only rejects writes', async () => { ... }, { skip: ctx.capabilities.readOnly ? undefined : 'no read-only' });
   * ```
   */
  test(title: string, fn: () => Promise<void>, options: CaseOptions = {}): void {
    if (options.skip !== undefined) {
      console.info(`[conformance ${this.name}] SKIPPED "${title}": ${options.skip}`);
      it.skip(`${title} [skipped: ${options.skip}]`, fn);
      return;
    }
    it(title, { timeout: options.timeoutMs ?? CASE_TIMEOUT_MS }, fn);
  }

  /**
   * After a case: records connections left in use or idle in a transaction, then closes
   * every factory the case opened.
   *
   * @example
   * ```ts
   * afterEach((c) => ctx.finishCase(c.task.name));
   * ```
   */
  async finishCase(test: string): Promise<void> {
    const idleInTransaction = this.dialect.idleInTransactionCount;
    if (idleInTransaction) {
      // Cleanup that the server finishes on its own after the case returned (a sync worker
      // rolling back after a timed-out call, a dropped socket the server has not read yet) is
      // given a moment; a session left idle in a transaction stays and is recorded.
      let count = await idleInTransaction();
      for (let waited = 0; count !== 0 && waited < IDLE_SETTLE_MS; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        count = await idleInTransaction();
      }
      if (count !== 0) this.leaks.push({ test, what: 'sessions idle in transaction', value: count });
    }
    const factories = this.opened.splice(0);
    if (this.adminFactory) factories.push(this.adminFactory);
    for (const sf of factories) {
      const inUse = sf.stats().inUse;
      if (inUse !== 0) this.leaks.push({ test, what: `connections in use on ${sf.description}`, value: inUse });
    }
    const closing = factories.filter((sf) => sf !== this.adminFactory);
    await Promise.allSettled(closing.map((sf) => sf.close({ timeoutMs: 5_000 })));
  }

  /**
   * Closes the admin factory and drops the run's schema/database.
   *
   * @example
   * ```ts
   * afterAll(() => ctx.teardown());
   * ```
   */
  async teardown(): Promise<void> {
    await Promise.allSettled(this.opened.splice(0).map((sf) => sf.close({ timeoutMs: 5_000 })));
    try {
      await this.adminFactory?.close({ timeoutMs: 5_000 });
    } finally {
      await this.target.teardown();
    }
  }
}
