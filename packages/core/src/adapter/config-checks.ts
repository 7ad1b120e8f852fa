import { adapterConfigError, invalidOption, invalidUrlParameter } from './config-problem.js';
import { findControlCharacter } from './control-characters.js';

// Each check returns the value it accepted, typed, or throws a ConfigurationError naming the
// option (or URL parameter), the value and what is allowed.

/**
 * Whether `value` is a plain object (`{...}` or `Object.create(null)`), not an array, a class
 * instance or null.
 *
 * @example
 * ```ts
 * isPlainObject({ host: 'db' }) // true
 * isPlainObject(new Date())     // false
 * ```
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Accepts a string option: non-empty unless `allowEmpty`, and without control characters (see
 * {@link findControlCharacter}: they could inject fields into a connection handshake);
 * `undefined` when absent.
 *
 * @example
 * ```ts
 * checkStringOption('postgres', 'host', 'db')                              // 'db'
 * checkStringOption('postgres', 'applicationName', '', { allowEmpty: true }) // ''
 * checkStringOption('postgres', 'host', '') // throws: invalid option "host": ""; expected a non-empty string
 * ```
 */
export function checkStringOption(
  dialect: string,
  option: string,
  value: unknown,
  { allowEmpty = false }: { readonly allowEmpty?: boolean } = {},
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (allowEmpty || value !== '')) return refuseControlCharacters(dialect, option, value);
  throw invalidOption(dialect, option, value, allowEmpty ? 'a string' : 'a non-empty string');
}

/**
 * Returns `value` unless it contains a control character (NUL, newline, ...), which connection
 * settings may never carry; then throws a `ConfigurationError` naming the option and the
 * character (never the value, which may be a password).
 *
 * @example
 * ```ts
 * refuseControlCharacters('postgres', 'applicationName', 'api')          // 'api'
 * refuseControlCharacters('postgres', 'database', 'shop\u0000options=-c') // throws: ... contains the control character U+0000 ...
 * ```
 */
export function refuseControlCharacters(dialect: string, option: string, value: string): string {
  const found = findControlCharacter(value);
  if (found === undefined) return value;
  throw adapterConfigError(
    dialect,
    `invalid option "${option}": contains the control character ${found}; control characters are not allowed in connection settings`,
  );
}

/**
 * Accepts an integer option within `[min, max]`; `undefined` when absent.
 *
 * @example
 * ```ts
 * checkIntegerOption('mysql', 'port', 3306, 1, 65535) // 3306
 * checkIntegerOption('mysql', 'port', 0, 1, 65535)    // throws: invalid option "port": 0; expected an integer from 1 to 65535
 * ```
 */
export function checkIntegerOption(
  dialect: string,
  option: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw invalidOption(dialect, option, value, `an integer from ${min} to ${max}`);
}

/**
 * Reads a boolean URL parameter: `true`/`1` or `false`/`0`.
 *
 * @example
 * ```ts
 * parseBooleanParameter('mysql', 'ssl', '1')     // true
 * parseBooleanParameter('mysql', 'ssl', 'maybe') // throws: invalid URL parameter "ssl": "maybe"; expected true or false
 * ```
 */
export function parseBooleanParameter(dialect: string, name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalidUrlParameter(dialect, name, value, 'true or false');
}

/**
 * Reads a URL parameter holding a whole number (digits only, a safe integer); `unit` names what
 * it counts, for the message.
 *
 * @example
 * ```ts
 * parseWholeNumberParameter('postgres', 'connect_timeout', '10', 'seconds') // 10
 * parseWholeNumberParameter('mysql', 'connectTimeoutMs', 'soon', 'milliseconds')
 * // throws: invalid URL parameter "connectTimeoutMs": "soon"; expected a whole number of milliseconds
 * ```
 */
export function parseWholeNumberParameter(dialect: string, name: string, value: string, unit: string): number {
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  throw invalidUrlParameter(dialect, name, value, `a whole number of ${unit}`);
}
