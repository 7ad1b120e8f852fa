import { TransactionTimeoutError } from '../errors/error-classes.js';

/**
 * A session's `timeoutMs` and `signal` as one thing: an internal signal (so pool waits stop
 * too), a promise to race the session function against, and a callback that cancels the
 * running statement when it fires.
 */
export class Deadline {
  #controller: AbortController | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onSignalAbort: (() => void) | undefined;
  #expired: TransactionTimeoutError | undefined;
  #onExpire: ((error: TransactionTimeoutError) => void) | undefined;
  #rejectRace: ((error: TransactionTimeoutError) => void) | undefined;

  constructor(timeoutMs: number | undefined, signal: AbortSignal | undefined) {
    if (signal?.aborted) {
      this.#expire(abortError(signal));
    } else if (signal) {
      this.#signal = signal;
      this.#onSignalAbort = () => this.#expire(abortError(signal));
      signal.addEventListener('abort', this.#onSignalAbort, { once: true });
    }
    if (timeoutMs !== undefined && !this.#expired) {
      this.#timer = setTimeout(
        () =>
          this.#expire(
            new TransactionTimeoutError(
              `The session exceeded its timeoutMs of ${timeoutMs} ms: the running statement was cancelled and the transaction rolled back. Raise timeoutMs or make the unit of work shorter.`,
            ),
          ),
        timeoutMs,
      );
    }
  }

  /** Whether a timeout or signal can ever fire (sessions without either skip the bookkeeping). */
  get armed(): boolean {
    return this.#timer !== undefined || this.#signal !== undefined || this.#expired !== undefined;
  }

  /** Aborts when the deadline passes (hand it to waits such as pool checkout). */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#expired && !this.#controller.signal.aborted) this.#controller.abort(this.#expired);
    return this.#controller.signal;
  }

  get expired(): TransactionTimeoutError | undefined {
    return this.#expired;
  }

  /** Registers what to do on expiry; runs at once if it already expired. Only for armed deadlines. */
  onExpire(callback: (error: TransactionTimeoutError) => void): void {
    if (!this.armed) return;
    this.#onExpire = callback;
    if (this.#expired) callback(this.#expired);
  }

  /** Settles like `work`, or rejects with the timeout error when the deadline passes first. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.#timer === undefined && this.#signal === undefined && !this.#expired) return work;
    work.catch(() => {}); // a late rejection of abandoned work is expected, not unhandled
    return new Promise<T>((resolve, reject) => {
      if (this.#expired) return reject(this.#expired);
      this.#rejectRace = reject;
      work.then(resolve, reject);
    });
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#signal && this.#onSignalAbort) this.#signal.removeEventListener('abort', this.#onSignalAbort);
    this.#onExpire = undefined;
    this.#rejectRace = undefined;
  }

  #expire(error: TransactionTimeoutError): void {
    if (this.#expired) return;
    this.#expired = error;
    this.#controller?.abort(error);
    this.#onExpire?.(error);
    this.#rejectRace?.(error);
  }
}

/**
 * The deadline of a session with neither `timeoutMs` nor `signal`: it never fires, so one
 * shared instance serves them all (nothing is registered on it: `onExpire` is only called on
 * armed deadlines).
 */
const NEVER = new Deadline(undefined, undefined);

/**
 * The deadline for `timeoutMs` and `signal`; the shared one that never fires when both are absent.
 *
 * @example
 * ```ts
 * const deadline = deadlineFor(options.timeoutMs, options.signal)
 * ```
 */
export function deadlineFor(timeoutMs: number | undefined, signal: AbortSignal | undefined): Deadline {
  return timeoutMs === undefined && signal === undefined ? NEVER : new Deadline(timeoutMs, signal);
}

function abortError(signal: AbortSignal): TransactionTimeoutError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
  return new TransactionTimeoutError(
    `The session was aborted by its signal (${reason}): the running statement was cancelled and the transaction rolled back.`,
    { cause: signal.reason },
  );
}
