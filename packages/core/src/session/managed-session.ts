import type { ConnectionProvider, KyselyProps } from 'kysely';
import type { Scope } from './scope.js';
import { type SavepointRunner, SessionKysely } from './session-kysely.js';
import type { ManagedSession } from './session-types.js';

/** What ends a managed session; the engine supplies it. */
export interface ManagedSessionControl {
  commit(): Promise<void>;
  rollback(): Promise<void>;
  readonly isEnded: boolean;
}

/**
 * The object `sf.begin()` resolves to: a session `tx` you finish yourself, or that
 * `await using` rolls back when the block exits without `commit()`.
 */
export class ManagedSessionKysely<DB> extends SessionKysely<DB> implements ManagedSession<DB> {
  #control: ManagedSessionControl | undefined;

  constructor(base: KyselyProps, scope: Scope, provider: ConnectionProvider, runSavepoint: SavepointRunner) {
    super(base, scope, provider, runSavepoint);
  }

  /** Wired by the engine once the transaction is open. */
  bind(control: ManagedSessionControl): void {
    this.#control = control;
  }

  get isEnded(): boolean {
    return this.#control?.isEnded ?? false;
  }

  /**
   * Commits; throws (after rolling back) if the session cannot commit.
   *
   * @example
   * ```ts
   * await using s = await sf.begin()
   * await s.insertInto('account').values(row).execute()
   * await s.commit()
   * ```
   */
  commit(): Promise<void> {
    return this.#control!.commit();
  }

  /**
   * Rolls back. Calling it on an ended session does nothing.
   *
   * @example
   * ```ts
   * if (!valid) await s.rollback()
   * ```
   */
  rollback(): Promise<void> {
    return this.#control!.rollback();
  }

  /** `await using` exit: roll back whatever was not committed, release the connection. */
  override async [Symbol.asyncDispose](): Promise<void> {
    if (!this.isEnded) await this.rollback();
  }
}
