import { type ErrorCode, SessionFactoryError } from '@sessionfactory/core';
import { expect } from 'vitest';

/** Constructor of a typed error class, as `instanceof` needs it. */
export type ErrorConstructor<E extends SessionFactoryError> = abstract new (...args: any[]) => E;

/**
 * Asserts that `error` is the typed error a database error must become: the class, its stable
 * `code`, the factory's `dialect`, `retryable`, and the driver's error kept as `cause` with its
 * original message.
 *
 * @example
 * ```ts
 * const e = expectDatabaseError(error, UniqueViolationError, 'UNIQUE_VIOLATION', sf.dialect);
 * expect(e.constraint).toBe('account_owner_uq');
 * ```
 */
export function expectDatabaseError<E extends SessionFactoryError>(
  error: unknown,
  errorClass: ErrorConstructor<E>,
  code: ErrorCode,
  dialect: string,
  retryable = false,
): E {
  expect(error).toBeInstanceOf(errorClass);
  expect(error).toBeInstanceOf(SessionFactoryError);
  const typed = error as E;
  expect(typed.code).toBe(code);
  expect(typed.dialect).toBe(dialect);
  expect(typed.retryable).toBe(retryable);
  expect(typed.cause).toBeDefined();
  expect(typed.originalMessage).toEqual(expect.any(String));
  return typed;
}

/**
 * Asserts each structured field the adapter reported matches, and that at least one was reported.
 *
 * @example
 * ```ts
 * expectReportedFields(e, { constraint: 'account_owner_uq', table: 'account', column: 'owner' });
 * ```
 */
export function expectReportedFields(
  error: SessionFactoryError,
  expected: { constraint?: string; table?: string; column?: string },
): void {
  const reported = (['constraint', 'table', 'column'] as const).filter(
    (key) => expected[key] !== undefined && error[key] !== undefined,
  );
  expect(
    reported.length,
    `expected at least one of ${Object.keys(expected).join(', ')} on ${error.name}`,
  ).toBeGreaterThan(0);
  for (const key of reported) expect(error[key], `${error.name}.${key}`).toBe(expected[key]);
}
