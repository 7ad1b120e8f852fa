import mysql2, { type Connection, type QueryError } from 'mysql2';

/** A mysql2 command as its connection drives it: `execute` per packet, true once it is done. */
interface WireCommand {
  execute(packet: unknown, connection: WireConnection): boolean;
  onResult?: ((error: QueryError) => void) | undefined;
  /** What mysql2's `debug` logging prints for the running command. */
  stateName(): string;
}

/** The parts of mysql2's internal connection a pipeline needs (mysql2 3.x, not documented). */
interface WireConnection {
  /** The sequence id the next packet read (or written) must carry. */
  sequenceId: number;
  readonly stream: { cork(): void; uncork(): void };
  addCommand(command: WireCommand): unknown;
}

type QueryCallback = (error: QueryError | null, result?: unknown) => void;
type CreateQuery = (sql: string, values: unknown[], callback: QueryCallback, config: unknown) => WireCommand;

const ConnectionClass = (mysql2 as unknown as { Connection?: { createQuery?: unknown; prototype?: object } })
  .Connection;

/**
 * Whether this mysql2 release has the internals a pipeline drives; a mysql2 that changed them
 * simply gets no pipelining (BEGIN then goes out on its own, as before).
 */
export const canPipeline =
  typeof ConnectionClass?.createQuery === 'function' &&
  typeof (ConnectionClass.prototype as { addCommand?: unknown } | undefined)?.addCommand === 'function';

/**
 * Sends several COM_QUERY commands in one network write and then reads their replies in
 * order, each through mysql2's own `Query` command (so results parse exactly as `query()`'s).
 * mysql2 itself writes a command only after the previous one's reply: this saves those round
 * trips. The server runs every command it reads, even after one failed, so a caller must only
 * send what is harmless to run that way. Each reply's packets count from sequence id 1.
 */
class Pipeline implements WireCommand {
  readonly #parts: readonly WireCommand[];
  #current = -1;

  constructor(parts: readonly WireCommand[]) {
    this.#parts = parts;
  }

  execute(packet: unknown, connection: WireConnection): boolean {
    if (this.#current < 0) {
      // Started by mysql2 with no packet: write every command (each starts its own count at 0).
      connection.stream.cork();
      try {
        for (const part of this.#parts) part.execute(undefined, connection);
      } finally {
        connection.stream.uncork();
      }
      this.#current = 0;
      connection.sequenceId = 1;
      return false;
    }
    if (!this.#parts[this.#current]!.execute(packet, connection)) return false;
    this.#current++;
    if (this.#current === this.#parts.length) return true;
    connection.sequenceId = 1;
    return false;
  }

  /** For mysql2's `debug` logging: the state of the command being written or answered. */
  stateName(): string {
    return this.#parts[Math.max(this.#current, 0)]?.stateName() ?? 'done';
  }

  /** mysql2 calls this when the connection fails: every command not yet answered hears it. */
  onResult(error: QueryError): void {
    for (const part of this.#parts.slice(Math.max(this.#current, 0))) part.onResult?.(error);
  }
}

/**
 * Runs `statements` (already formatted SQL) on `raw` in one network write; `callbacks[i]` gets
 * the reply to `statements[i]`, in order, as `query()`'s callback would. Queued behind any
 * command still running on the connection, as `query()` is.
 */
export function sendPipelined(raw: Connection, statements: readonly string[], callbacks: readonly QueryCallback[]) {
  const createQuery = ConnectionClass!.createQuery as CreateQuery;
  const config = (raw as unknown as { config: unknown }).config;
  const parts = statements.map((sql, i) => createQuery(sql, [], callbacks[i]!, config));
  (raw as unknown as WireConnection).addCommand(new Pipeline(parts));
}
