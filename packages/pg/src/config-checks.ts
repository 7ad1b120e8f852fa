import { configProblem } from './config-problem.js';

/**
 * Returns `value` if it is a string (non-empty unless `allowEmpty`), `undefined` if absent,
 * and throws a `ConfigurationError` naming `option` otherwise.
 *
 * @example
 * ```ts
 * const host = optionalString('host', input.host) // 'db' | undefined
 * ```
 */
export function optionalString(option: string, value: unknown, allowEmpty = false): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (allowEmpty || value !== '')) return value;
  throw configProblem(option, value, allowEmpty ? 'a string' : 'a non-empty string');
}

/**
 * Returns `value` if it is an integer within `[min, max]`, `undefined` if absent, and throws
 * a `ConfigurationError` naming `option` otherwise.
 *
 * @example
 * ```ts
 * const port = optionalInteger('port', input.port, 1, 65535) // 5432 | undefined
 * ```
 */
export function optionalInteger(option: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  throw configProblem(option, value, range);
}

/**
 * Parses a URL parameter holding a whole number, throwing a `ConfigurationError` for anything else.
 *
 * @example
 * ```ts
 * integerParam('connect_timeout', '10') // 10
 * ```
 */
export function integerParam(option: string, value: string): number {
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  throw configProblem(option, value, 'a whole number');
}

/**
 * Whether `value` is a plain object (`{...}`), not an array, class instance or null.
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
