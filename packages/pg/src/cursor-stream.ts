import type { CompiledQuery, QueryResult } from 'kysely';
import type { Client } from 'pg';
import { toQueryResult } from './to-query-result.js';

let cursorCounter = 0;

/**
 * Streams a query's rows `chunkSize` at a time through a server-side cursor
 * (`DECLARE ... NO SCROLL CURSOR` then `FETCH`), so no pg-cursor dependency is needed.
 * Inside a transaction the cursor lives in it; on an idle connection the stream wraps
 * itself in a private transaction, committed when the rows are read (rolled back if
 * reading fails), because Postgres cursors need one. Only queries a cursor accepts can be
 * streamed: SELECT, VALUES, TABLE (not INSERT ... RETURNING). `perTransaction` (SET LOCAL
 * statements, behind a transaction pooler) runs right after that private BEGIN.
 *
 * @example
 * ```ts
 * for await (const chunk of cursorStream(client, CompiledQuery.raw('SELECT * FROM big'), 500)) {
 *   handle(chunk.rows)
 * }
 * ```
 */
export async function* cursorStream(
  client: Client,
  query: CompiledQuery,
  chunkSize: number,
  perTransaction?: string,
): AsyncGenerator<QueryResult<unknown>> {
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
  const cursor = `sf_cursor_${++cursorCounter}`;
  const ownTransaction = client.getTransactionStatus() === 'I';
  if (ownTransaction) await client.query(perTransaction === undefined ? 'BEGIN' : `BEGIN; ${perTransaction}`);
  let failed = false;
  try {
    await client.query({ text: `DECLARE ${cursor} NO SCROLL CURSOR FOR ${query.sql}`, values: [...query.parameters] });
    while (true) {
      const { rows } = toQueryResult(await client.query(`FETCH ${chunkSize} FROM ${cursor}`));
      if (rows.length === 0) break;
      yield { rows };
      if (rows.length < chunkSize) break;
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await closeCursor(client, cursor, ownTransaction, failed);
  }
}

async function closeCursor(client: Client, cursor: string, ownTransaction: boolean, failed: boolean): Promise<void> {
  try {
    if (ownTransaction) await client.query(failed ? 'ROLLBACK' : 'COMMIT');
    // In an aborted transaction CLOSE would fail too; the caller's ROLLBACK ends the cursor.
    else if (client.getTransactionStatus() === 'T') await client.query(`CLOSE ${cursor}`);
  } catch (error) {
    // A cleanup error must not hide the error that stopped the stream.
    if (!failed) throw error;
  }
}
