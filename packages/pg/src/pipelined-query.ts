import { markPreludeFailed } from '@sessionfactory/core/adapter';
import pg from 'pg';

/** The parts of pg's internal `Connection` a prelude writes to (stable across pg 8). */
interface WireConnection {
  parse(message: { text: string }): void;
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
  typeof base.handleError === 'function';

/**
 * A pg query preceded by parameterless statements (a session's BEGIN) in the same network
 * write, with one Sync at the end: Parse/Bind/Execute for each prelude statement, then the
 * query's own Parse/Bind/Describe/Execute/Sync. Postgres runs them in order and, after an
 * error, skips the rest until Sync, so a failed BEGIN never lets the query run outside a
 * transaction. The prelude's CommandComplete messages are not part of the result; an error
 * that arrives before they are all in is marked as the prelude's (`markPreludeFailed`).
 */
class PipelinedQuery extends PgQuery {
  readonly #prelude: readonly string[];
  #preludeLeft: number;

  constructor(prelude: readonly string[], text: string, values: unknown[], callback: Callback) {
    super({ text, values, queryMode: 'extended', callback });
    this.#prelude = prelude;
    this.#preludeLeft = prelude.length;
  }

  override prepare(connection: WireConnection): void {
    for (const text of this.#prelude) {
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
 * Runs `prelude` then `text` on `client` in one round trip and resolves to the query's result.
 *
 * @example
 * ```ts
 * const { rows } = await queryAfter(client, ['BEGIN'], 'SELECT * FROM account WHERE id = $1', [1])
 * ```
 */
export function queryAfter(
  client: pg.Client,
  prelude: readonly string[],
  text: string,
  values: unknown[],
): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const query = new PipelinedQuery(prelude, text, values, (error, result) =>
      error ? reject(error) : resolve(result!),
    );
    client.query(query as unknown as pg.Submittable);
  });
}
