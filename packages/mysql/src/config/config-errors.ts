import { ConfigurationError, redactPassword } from '@sessionfactory/core';

/**
 * The error for a bad value: names what was wrong, shows the value (a password never) and
 * says what is allowed.
 *
 * @example
 * ```ts
 * throw invalidValue('option "port"', 70000, 'an integer from 1 to 65535')
 * // ConfigurationError: mysql: option "port" is 70000; expected an integer from 1 to 65535
 * ```
 */
export function invalidValue(what: string, value: unknown, expected: string): ConfigurationError {
  const shown = /password/i.test(what) ? '***' : showValue(value);
  return configurationError(`${what} is ${shown}; expected ${expected}`);
}

/**
 * A `ConfigurationError` from this adapter, its message prefixed with the dialect.
 *
 * @example
 * ```ts
 * throw configurationError('no user given')
 * ```
 */
export function configurationError(message: string): ConfigurationError {
  return new ConfigurationError(`mysql: ${message}`, { dialect: 'mysql' });
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(redactPassword(value));
  if (value === null || ['number', 'boolean', 'bigint', 'undefined'].includes(typeof value)) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
