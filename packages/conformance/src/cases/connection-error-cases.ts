import {
  AuthenticationError,
  ConnectionError,
  DatabaseNotFoundError,
  type ErrorCode,
  type SessionFactoryError,
} from '@sessionfactory/core';
import { expect } from 'vitest';
import type { FailingFactories } from '../conformance-target.js';
import { settleTimed } from '../suite/async-helpers.js';
import { type ErrorConstructor, expectDatabaseError } from '../suite/expect-typed-error.js';
import { CONFORMANCE_SECRET } from '../suite/fixtures.js';
import { selectOne } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';

interface FailingCase {
  readonly key: keyof FailingFactories;
  readonly errorClass: ErrorConstructor<SessionFactoryError>;
  readonly code: ErrorCode;
  readonly what: string;
}

const FAILING_CASES: readonly FailingCase[] = [
  { key: 'authentication', errorClass: AuthenticationError, code: 'AUTHENTICATION', what: 'wrong credentials' },
  {
    key: 'databaseNotFound',
    errorClass: DatabaseNotFoundError,
    code: 'DATABASE_NOT_FOUND',
    what: 'a database that does not exist',
  },
  { key: 'unreachable', errorClass: ConnectionError, code: 'CONNECTION', what: 'an unreachable server' },
  { key: 'tlsRefused', errorClass: ConnectionError, code: 'CONNECTION', what: 'TLS required from a server without it' },
  {
    key: 'databaseAccessDenied',
    errorClass: AuthenticationError,
    code: 'AUTHENTICATION',
    what: 'a user denied access to the database',
  },
];

/**
 * Factories that cannot connect fail fast with `AuthenticationError` (wrong credentials, or no
 * access to the database), `DatabaseNotFoundError` or `ConnectionError` (unreachable, or a TLS
 * handshake that cannot happen), never showing the password.
 *
 * @example
 * ```ts
 * registerConnectionErrorCases(ctx);
 * ```
 */
export function registerConnectionErrorCases(ctx: SuiteContext): void {
  for (const { key, errorClass, code, what } of FAILING_CASES) {
    const make = ctx.target.failingFactories?.[key];
    ctx.test(
      `${what} raises ${errorClass.name} quickly, without the password`,
      async () => {
        const sf = ctx.track(make!());
        const { error, ms } = await settleTimed(sf.session((tx) => selectOne(tx)));
        const typed = expectDatabaseError(error, errorClass, code, sf.dialect);
        expect(ms).toBeLessThan(10_000);
        for (const text of [typed.message, String(typed.stack), JSON.stringify(typed.toJSON()), sf.description]) {
          expect(text).not.toContain(CONFORMANCE_SECRET);
        }
        expect(sf.stats().inUse).toBe(0);
        const ping = await settleTimed(sf.ping());
        expect(ping.error).toBeInstanceOf(errorClass);
      },
      {
        skip:
          make === undefined
            ? `ConformanceTarget.failingFactories.${key} is not provided (not applicable to this adapter)`
            : undefined,
      },
    );
  }
}
