import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

/** Stands for a parameter while the query is compiled once; `compile(params)` puts the value in its place. */
class Placeholder {
  constructor(readonly name: string) {}

  // A placeholder inlined into the SQL text (sql.lit, sql.raw) instead of bound: caught at prepare time.
  toString(): string {
    return `\u0000sessionfactory-placeholder:${this.name}\u0000`;
  }
}

function inlined(sql: string, cause?: unknown): TypeError {
  return new TypeError(
    `sf.prepare: a param() was written into the SQL text instead of bound as a parameter (sql.lit or sql.raw?): ${sql.replaceAll('\u0000', '')}`,
    { cause },
  );
}

/**
 * Declares a named parameter inside `sf.prepare`; typed as the value it stands for, so the
 * builder accepts it wherever that value goes.
 *
 * @example
 * ```ts
 * sf.prepare<{ id: number }>((db, param) => db.selectFrom('account').selectAll().where('id', '=', param('id')))
 * ```
 */
export type ParamFn<P> = <K extends keyof P & string>(name: K) => P[K];

/** Where and how a prepared query runs its compiled statement (the factory's connection routing). */
export type CompiledRunner = (query: CompiledQuery) => Promise<QueryResult<unknown>>;

/** The slots of the parameter array that take a named value. */
interface Slot {
  readonly index: number;
  readonly name: string;
}

/**
 * A query compiled once, with named parameters, run many times: no query building or SQL
 * compiling per call, only the parameter values change. Made by `sf.prepare(build)`; runs like
 * `sf.db` (inside the ambient session of its factory, else on a pooled connection), and
 * `compile(params)` gives a `CompiledQuery` for `tx.executeQuery(...)` or a sync session's
 * `tx.all/get/run(...)`. Adapters see an ordinary compiled query, so it works on every adapter;
 * SQLite reuses its prepared statement for the SQL text.
 *
 * @example
 * ```ts
 * const byId = sf.prepare<{ id: number }>((db, param) =>
 *   db.selectFrom('account').select(['id', 'balance']).where('id', '=', param('id')),
 * )
 * const account = await byId.executeTakeFirst({ id: 1 })
 * sf.syncSession((tx) => tx.get(byId.compile({ id: 2 })))
 * ```
 */
export class PreparedQuery<P, O> {
  /** The SQL text, compiled once for the adapter's dialect. */
  readonly sql: string;
  readonly #template: CompiledQuery<O>;
  readonly #slots: readonly Slot[];
  readonly #run: CompiledRunner;

  constructor(db: Kysely<any>, build: (db: Kysely<any>, param: ParamFn<P>) => Compilable<O>, run: CompiledRunner) {
    if (typeof build !== 'function') {
      throw new TypeError('sf.prepare(build): build must be a function (db, param) => query, e.g. a Kysely builder');
    }
    const declared = new Map<string, Placeholder>();
    const param = ((name: string) => {
      if (typeof name !== 'string' || name === '') {
        throw new TypeError(`sf.prepare: param(name) needs a non-empty string name, got ${JSON.stringify(name)}`);
      }
      let placeholder = declared.get(name);
      if (!placeholder) declared.set(name, (placeholder = new Placeholder(name)));
      return placeholder;
    }) as ParamFn<P>;
    const query = build(db, param);
    if (!query || typeof (query as { compile?: unknown }).compile !== 'function') {
      throw new TypeError(
        'sf.prepare(build): build must return a query built with the db it is given (something with .compile())',
      );
    }
    let template: CompiledQuery<O>;
    try {
      template = query.compile();
    } catch (error) {
      // Kysely refuses some inlined values itself (sql.lit of an object): say what went wrong.
      if (error instanceof Error && error.message.includes('sessionfactory-placeholder:'))
        throw inlined(error.message, error);
      throw error;
    }
    if (template.sql.includes('\u0000sessionfactory-placeholder:')) throw inlined(template.sql);
    const slots: Slot[] = [];
    template.parameters.forEach((value, index) => {
      if (value instanceof Placeholder) slots.push({ index, name: value.name });
    });
    for (const name of declared.keys()) {
      if (!slots.some((slot) => slot.name === name)) {
        throw new TypeError(`sf.prepare: param('${name}') was declared but is not a parameter of the compiled query`);
      }
    }
    this.sql = template.sql;
    this.#template = template;
    this.#slots = slots;
    this.#run = run;
  }

  /**
   * The compiled query with these parameter values, for `tx.executeQuery(...)` in a session or
   * `tx.all/get/run(...)` in a sync session. A missing parameter throws `TypeError`.
   *
   * @example
   * ```ts
   * await sf.session((tx) => tx.executeQuery(byId.compile({ id: 1 })))
   * ```
   */
  compile(params: P): CompiledQuery<O> {
    const template = this.#template;
    const slots = this.#slots;
    if (slots.length === 0) return template;
    if (params === null || typeof params !== 'object') {
      throw new TypeError(`Prepared query needs its parameters as an object, got ${String(params)}: ${this.sql}`);
    }
    const parameters = template.parameters.slice();
    for (const { index, name } of slots) {
      const value = (params as Record<string, unknown>)[name];
      if (value === undefined && !(name in (params as object))) {
        throw new TypeError(`Prepared query is missing parameter '${name}': ${this.sql}`);
      }
      parameters[index] = value;
    }
    return { sql: template.sql, parameters, query: template.query, queryId: template.queryId };
  }

  /**
   * Runs the query and resolves to Kysely's raw result (`rows`, `numAffectedRows`, `insertId`).
   *
   * @example
   * ```ts
   * const { numAffectedRows } = await bump.executeQuery({ id: 1 })
   * ```
   */
  executeQuery(params: P): Promise<QueryResult<O>> {
    let compiled: CompiledQuery<O>;
    try {
      compiled = this.compile(params);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#run(compiled) as Promise<QueryResult<O>>;
  }

  /**
   * Runs the query and resolves to its rows (empty for statements that return none).
   *
   * @example
   * ```ts
   * const rows = await byOwner.execute({ owner: 'ann' })
   * ```
   */
  execute(params: P): Promise<O[]> {
    return this.executeQuery(params).then(rowsOf);
  }

  /**
   * Runs the query and resolves to its first row, or undefined.
   *
   * @example
   * ```ts
   * const account = await byId.executeTakeFirst({ id: 1 })
   * ```
   */
  executeTakeFirst(params: P): Promise<O | undefined> {
    return this.executeQuery(params).then(firstRowOf);
  }
}

function rowsOf<O>(result: QueryResult<O>): O[] {
  return result.rows as O[];
}

function firstRowOf<O>(result: QueryResult<O>): O | undefined {
  return result.rows[0];
}
