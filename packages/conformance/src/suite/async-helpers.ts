/** A promise with its resolve/reject exposed, to hold a session open until a case says so. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * Creates a `Deferred`.
 *
 * @example
 * ```ts
 * const release = deferred<void>();
 * const held = sf.session(async () => release.promise);
 * release.resolve();
 * ```
 */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @example
 * ```ts
 * await delay(50);
 * ```
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Settles `promise` and reports how long it took, without throwing.
 *
 * @example
 * ```ts
 * const { error, ms } = await settleTimed(sf.session(fn));
 * ```
 */
export async function settleTimed<T>(
  promise: Promise<T>,
): Promise<{ value: T | undefined; error: unknown; ms: number }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { value, error: undefined, ms: performance.now() - started };
  } catch (error) {
    return { value: undefined, error, ms: performance.now() - started };
  }
}

/**
 * Resolves with the error `promise` rejects with; fails if it resolves.
 *
 * @example
 * ```ts
 * const error = await rejectionOf(sf.session(fn));
 * expect(error).toBeInstanceOf(UniqueViolationError);
 * ```
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
