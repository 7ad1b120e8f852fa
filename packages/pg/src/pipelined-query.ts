import { markPreludeFailed } from '@sessionfactory/core/adapter';
import pg from 'pg';

/** The parts of pg's internal `Connection` a prelude writes to (stable across pg 8). */
interface WireConnection {
  parse(message: { text: string }): void;
  close(message: { type: 'S'; name: string }): void;
  /** Statement names pg has parsed on this connection (it skips Parse for them). */
  parsedStatements: Record<string, string>;
  bind(message: object): void;
  execute(message: object): void;
}

/** The internals of pg's `Query` this subclass builds on; checked once at load. */
interface QueryInternals {
  prepare(connection: WireConnection): void;
  handleCommandComplete(message: unknown, connection: WireConnection): void;
  handleError(error: unknown, connection: WireConnection): void;
}

type Callback = (error: Error | null, result?: pg.QueryResult) => void;
type QueryConstructor = new (config: pg.QueryConfig & { queryMode: 'extended'; callback: Callback }) => QueryInternals;

const PgQuery = pg.Query as unknown as QueryConstructor;
const base = PgQuery.prototype as Partial<QueryInternals>;

/**
 * Whether this pg release has the `Query` internals a prelude needs. pg documents `Query` as
 * a Submittable but not these methods, so a pg that changed them simply gets no pipelining.
 */
export const canPipeline =
  typeof base.prepare === 'function' &&
  typeof base.handleCommandComplete === 'function' &&
  typeof base.handleError === 'function' &&
  typeof (pg as unknown as { Connection?: { prototype?: { close?: unknown } } }).Connection?.prototype?.close ===
    'function';

/** What goes into the network write ahead of a query's own messages. */
export interface QueryAhead {
  /** Parameterless statements run first (a session's BEGIN), their results not reported. */
  readonly prelude: readonly string[];
  /** Named statements to Close first (given up by the connection's statement cache). */
  readonly closing: readonly string[];
  /** The query's own statement name (pg skips Parse when it has parsed it on this connection). */
  readonly name: string | undefined;
}

/**
 * A pg query preceded by other messages in the same network write, with one Sync at the end:
 * Close for each statement name given up, Parse/Bind/Execute for each prelude statement, then
 * the query's own Parse (unless named and parsed already)/Bind/Describe/Execute/Sync. Postgres
 * runs them in order and, after an error, skips the rest until Sync, so a failed BEGIN never
 * lets the query run outside a transaction. The prelude's CommandComplete messages are not part
 * of the result; an error that arrives before they are all in is marked as the prelude's
 * (`markPreludeFailed`). Closing a name the server does not have is not an error.
 */
class PipelinedQuery extends PgQuery {
  readonly #ahead: QueryAhead;
  #preludeLeft: number;

  constructor(ahead: QueryAhead, text: string, values: unknown[], callback: Callback) {
    super({ text, values, queryMode: 'extended', callback, ...(ahead.name === undefined ? {} : { name: ahead.name }) });
    this.#ahead = ahead;
    this.#preludeLeft = ahead.prelude.length;
  }

  override prepare(connection: WireConnection): void {
    for (const name of this.#ahead.closing) {
      connection.close({ type: 'S', name });
      delete connection.parsedStatements[name];
    }
    for (const text of this.#ahead.prelude) {
      connection.parse({ text });
      connection.bind({});
      connection.execute({});
    }
    super.prepare(connection);
  }

  override handleCommandComplete(message: unknown, connection: WireConnection): void {
    if (this.#preludeLeft > 0) {
      this.#preludeLeft -= 1;
      return;
    }
    super.handleCommandComplete(message, connection);
  }

  override handleError(error: unknown, connection: WireConnection): void {
    super.handleError(this.#preludeLeft > 0 ? markPreludeFailed(error) : error, connection);
  }
}

/**
 * Runs `text` on `client` after what `ahead` lists, in one round trip, and resolves to the
 * query's result.
 *
 * @example
 * ```ts
 * const ahead = { prelude: ['BEGIN'], closing: [], name: undefined }
 * const { rows } = await queryAfter(client, ahead, 'SELECT * FROM account WHERE id = $1', [1])
 * ```
 */
export function queryAfter(
  client: pg.Client,
  ahead: QueryAhead,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const query = new PipelinedQuery(ahead, text, values, (error, result) =>
      error ? reject(error) : resolve(result!),
    );
    client.query(query as unknown as pg.Submittable);
  });
}

/**
 * Forgets `names` in pg's record of parsed statements (the server dropped them: `DISCARD ALL`),
 * so pg parses them again rather than binding to a statement the server no longer has.
 *
 * @example
 * ```ts
 * forgetParsed(client, ['sf_1', 'sf_2'])
 * ```
 */
export function forgetParsed(client: pg.Client, names: readonly string[]): void {
  const wire = client.connection as unknown as WireConnection;
  for (const name of names) delete wire.parsedStatements[name];
}
