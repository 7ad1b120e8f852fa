import { type Deferred, deferred } from './async-helpers.js';

/**
 * A rendezvous for `parties` concurrent sessions: each `arrive()` resolves once all arrived.
 *
 * @example
 * ```ts
 * const bothLocked = barrier(2);
 * await Promise.all([a.session(async () => bothLocked.arrive()), b.session(async () => bothLocked.arrive())]);
 * ```
 */
export function barrier(parties: number): { arrive(): Promise<void> } {
  let arrived = 0;
  const all: Deferred<void> = deferred<void>();
  return {
    arrive() {
      arrived += 1;
      if (arrived >= parties) all.resolve();
      return all.promise;
    },
  };
}
