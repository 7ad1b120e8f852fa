/** Named statements kept per connection by default (`statementCacheSize`). */
export const DEFAULT_STATEMENT_CACHE_SIZE = 100;

/** Texts seen once are remembered up to this many, then forgotten all at once (one-off SQL never piles up). */
const SEEN_ONCE_LIMIT = 1_000;

/** Statements after which the server holds no prepared statement of the connection any more. */
const DROPS_STATEMENTS = /^\s*(discard\s+all|deallocate)\b/i;

/** Statements worth a server-side plan: DML and queries. Utility and transaction statements stay unnamed. */
const PLANNED = /^\s*(select|insert|update|delete|with|values|merge)\b/i;

/**
 * `count(*)` aside, a `*` may be `SELECT *` or `RETURNING *`, whose result columns follow the
 * table. After an `ALTER TABLE` such a named statement fails with "cached plan must not change
 * result type", which inside a transaction aborts it; so those stay unnamed (and multiplications
 * with them, which costs only speed).
 */
function nameable(sql: string): boolean {
  return PLANNED.test(sql) && !sql.replaceAll('(*)', '').includes('*');
}

/**
 * Which SQL texts of one connection run as named (server-side prepared) statements: Postgres
 * then parses and plans them once per connection instead of on every run, which is most of the
 * server's work for a small statement. A text is named the second time it is seen (one-off
 * SQL never takes a slot), at most `capacity` at a time; the least recently used name is given
 * up when a new one needs its slot, and the connection sends a protocol Close for it before its
 * next statement (`takeClosing`). Names are never reused, so a late Close can never hit a newer
 * statement.
 *
 * @example
 * ```ts
 * const names = new StatementNames(100)
 * names.nameFor('select * from t where id = $1') // undefined: `*`, never named
 * names.nameFor('select id from t where id = $1') // undefined: first time
 * names.nameFor('select id from t where id = $1') // 'sf_1'
 * ```
 */
export class StatementNames {
  readonly #capacity: number;
  /** SQL text to name, least recently used first. */
  readonly #names = new Map<string, string>();
  readonly #seenOnce = new Set<string>();
  /**
   * Texts that are never named, with whether they drop every prepared statement: BEGIN, COMMIT
   * and the like repeat on every session, so each is classified once, not by two regexes per run.
   */
  readonly #unnameable = new Map<string, boolean>();
  #closing: string[] = [];
  #counter = 0;

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Named statements held now. */
  get size(): number {
    return this.#names.size;
  }

  /** The name `sql` runs under, or `undefined` to run it unnamed this time. */
  nameFor(sql: string): string | undefined {
    const name = this.#names.get(sql);
    if (name !== undefined) {
      this.#names.delete(sql);
      this.#names.set(sql, name);
      return name;
    }
    if (!this.#seenOnce.has(sql)) {
      if (this.#unnameable.has(sql)) return undefined;
      if (!nameable(sql)) {
        if (this.#unnameable.size >= SEEN_ONCE_LIMIT) this.#unnameable.clear();
        this.#unnameable.set(sql, DROPS_STATEMENTS.test(sql));
        return undefined;
      }
      if (this.#seenOnce.size >= SEEN_ONCE_LIMIT) this.#seenOnce.clear();
      this.#seenOnce.add(sql);
      return undefined;
    }
    this.#seenOnce.delete(sql);
    if (this.#names.size >= this.#capacity) {
      const [oldest, oldName] = this.#names.entries().next().value as [string, string];
      this.#names.delete(oldest);
      this.#closing.push(oldName);
    }
    this.#counter += 1;
    const fresh = `sf_${this.#counter}`;
    this.#names.set(sql, fresh);
    return fresh;
  }

  /** Whether `sql` (run unnamed, after `nameFor`) made the server drop every prepared statement (`DISCARD ALL`, `DEALLOCATE`). */
  dropsAll(sql: string): boolean {
    return this.#unnameable.get(sql) === true;
  }

  /** Gives up the name of `sql` (its server plan went stale); it is closed before the next statement. */
  forget(sql: string): void {
    const name = this.#names.get(sql);
    if (name === undefined) return;
    this.#names.delete(sql);
    this.#closing.push(name);
  }

  /** Names given up since the last call: Close each before the next statement. */
  takeClosing(): readonly string[] {
    if (this.#closing.length === 0) return NONE;
    const closing = this.#closing;
    this.#closing = [];
    return closing;
  }

  /** The server dropped every prepared statement (`DISCARD ALL`, `DEALLOCATE ALL`): returns the names that were held. */
  clear(): readonly string[] {
    const dropped = [...this.#names.values(), ...this.#closing];
    this.#names.clear();
    this.#closing = [];
    return dropped;
  }
}

const NONE: readonly string[] = Object.freeze([]);
