import { ConfigurationError } from '@sessionfactory/core';
import { redactPassword } from '@sessionfactory/core/adapter';

/**
 * The `ConfigurationError` for one bad option: names the option, shows the value (strings
 * redacted, objects by type only) and says what is allowed.
 *
 * @example
 * ```ts
 * throw invalidOption('busyTimeoutMs', -1, 'a non-negative integer of milliseconds')
 * // ConfigurationError: Invalid SQLite option busyTimeoutMs: -1; expected a non-negative integer of milliseconds
 * ```
 */
export function invalidOption(option: string, value: unknown, allowed: string): ConfigurationError {
  return new ConfigurationError(`Invalid SQLite option ${option}: ${describeValue(value)}; expected ${allowed}`, {
    dialect: 'sqlite',
  });
}

/**
 * A short, safe rendering of a user-supplied value for an error message.
 *
 * @example
 * ```ts
 * describeValue('app.db') // '"app.db"'
 * describeValue({ a: 1 }) // 'an object'
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(redactPassword(value));
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

/**
 * The `ConfigurationError` for an option or URL parameter this adapter does not know
 * (usually a typo such as `readOnly` for `readonly`).
 *
 * @example
 * ```ts
 * throw unknownOption('option', 'readOnly', ['readonly', 'wal'])
 * // ConfigurationError: Unknown SQLite option "readOnly"; expected one of readonly, wal
 * ```
 */
export function unknownOption(kind: string, name: string, known: readonly string[]): ConfigurationError {
  return new ConfigurationError(`Unknown SQLite ${kind} ${JSON.stringify(name)}; expected one of ${known.join(', ')}`, {
    dialect: 'sqlite',
  });
}
