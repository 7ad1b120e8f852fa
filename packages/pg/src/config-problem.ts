import { ConfigurationError, redactPassword } from '@sessionfactory/core';

/**
 * Builds the `ConfigurationError` for one bad option: it names the option, shows the value
 * (never a password) and says what is allowed.
 *
 * @example
 * ```ts
 * throw configProblem('port', 70000, 'an integer from 1 to 65535')
 * // postgres: invalid option "port": 70000; expected an integer from 1 to 65535
 * ```
 */
export function configProblem(option: string, value: unknown, allowed: string): ConfigurationError {
  const shown = option === 'password' ? describeType(value) : describeValue(value);
  return new ConfigurationError(`postgres: invalid option "${option}": ${shown}; expected ${allowed}`, {
    dialect: 'postgres',
  });
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(redactPassword(value));
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return describeType(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'a string';
  return `a value of type ${typeof value}`;
}
