import { ConfigurationError } from '../errors/error-classes.js';
import { redactPassword } from '../errors/redact.js';

/**
 * A `ConfigurationError` raised by an adapter: the message is prefixed with the dialect and
 * the error carries it, so every adapter reports bad input the same way.
 *
 * @example
 * ```ts
 * throw adapterConfigError('mysql', 'no user given; set "user" or put it in the URL')
 * // ConfigurationError: mysql: no user given; set "user" or put it in the URL
 * ```
 */
export function adapterConfigError(dialect: string, message: string): ConfigurationError {
  return new ConfigurationError(`${dialect}: ${message}`, { dialect });
}

/**
 * The `ConfigurationError` for one bad option: names the option, shows the value and says what
 * is allowed. An option whose name contains `password` is shown by type only, never by value;
 * any other string is shown with URL passwords redacted.
 *
 * @example
 * ```ts
 * throw invalidOption('postgres', 'port', 70000, 'an integer from 1 to 65535')
 * // ConfigurationError: postgres: invalid option "port": 70000; expected an integer from 1 to 65535
 * invalidOption('mysql', 'password', 1234, 'a string').message
 * // 'mysql: invalid option "password": a value of type number; expected a string'
 * ```
 */
export function invalidOption(dialect: string, option: string, value: unknown, allowed: string): ConfigurationError {
  return adapterConfigError(dialect, `invalid option "${option}": ${showValue(option, value)}; expected ${allowed}`);
}

/**
 * The `ConfigurationError` for a bad query parameter of a connection URL, worded like
 * {@link invalidOption}.
 *
 * @example
 * ```ts
 * throw invalidUrlParameter('postgres', 'sslmode', 'prefer', 'one of disable, require')
 * // ConfigurationError: postgres: invalid URL parameter "sslmode": "prefer"; expected one of disable, require
 * ```
 */
export function invalidUrlParameter(
  dialect: string,
  name: string,
  value: unknown,
  allowed: string,
): ConfigurationError {
  return adapterConfigError(dialect, `invalid URL parameter "${name}": ${showValue(name, value)}; expected ${allowed}`);
}

function showValue(name: string, value: unknown): string {
  if (/password/i.test(name)) return describeType(value);
  if (typeof value === 'string') return JSON.stringify(redactPassword(value));
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return describeType(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return `a value of type ${typeof value}`;
}
