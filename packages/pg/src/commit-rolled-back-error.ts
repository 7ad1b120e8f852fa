/**
 * Raised when the server answers COMMIT with a ROLLBACK tag: an earlier statement failed
 * and left the transaction aborted, so nothing was committed. Postgres reports this as
 * success; turning it into an error keeps a lost transaction from looking committed.
 */
export class CommitRolledBackError extends Error {
  /** `in_failed_sql_transaction`: the state the transaction was in. */
  readonly code = '25P02';

  constructor() {
    super('COMMIT was rolled back by the server: an earlier statement failed and left the transaction aborted');
  }

  override get name(): string {
    return 'CommitRolledBackError';
  }
}
