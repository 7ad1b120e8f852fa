import { SessionFactoryError } from '../errors/session-factory-error.js';

/**
 * Records an error that happened while handling `primary` (a failed ROLLBACK) without hiding
 * `primary`: typed errors get it in `suppressed`, other errors get a non-enumerable
 * `suppressed` array, so the caller still catches the error it threw.
 */
export function attachSuppressed<E>(primary: E, secondary: unknown): E {
  if (primary instanceof SessionFactoryError) {
    (primary.suppressed as unknown[]).push(secondary);
  } else if (typeof primary === 'object' && primary !== null) {
    const existing = (primary as { suppressed?: unknown }).suppressed;
    if (Array.isArray(existing)) existing.push(secondary);
    else if (Object.isExtensible(primary)) {
      Object.defineProperty(primary, 'suppressed', { value: [secondary], configurable: true, writable: true });
    }
  }
  return primary;
}
