import mysql2 from 'mysql2';
import { configurationError, invalidValue } from './config-errors.js';
import { type MysqlDriverOptions, OWNED_DRIVER_OPTIONS } from './mysql-config.js';

// Each check returns the value it accepted, typed, or throws a ConfigurationError naming the option.

/**
 * A non-empty string or `undefined`.
 *
 * @example
 * ```ts
 * checkName('host', 'db.internal') // 'db.internal'
 * ```
 */
export function checkName(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw invalidValue(`option "${option}"`, value, 'a non-empty string');
  }
  return value;
}

/**
 * An integer in `[min, max]` or `undefined`.
 *
 * @example
 * ```ts
 * checkInteger('port', 3306, 1, 65535) // 3306
 * ```
 */
export function checkInteger(option: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidValue(`option "${option}"`, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * A password: any string (empty means none) or `undefined`. Its value never reaches a message.
 *
 * @example
 * ```ts
 * checkPassword('s3cret') // 's3cret'
 * ```
 */
export function checkPassword(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalidValue('option "password"', value, 'a string');
  return value;
}

/**
 * `true`/`false` or a TLS options object (copied, because mysql2 writes into it).
 *
 * @example
 * ```ts
 * checkSsl(true) // {}
 * ```
 */
export function checkSsl(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (isPlainObject(value)) return { ...value };
  throw invalidValue('option "ssl"', value, 'true, false or an object of TLS options (ca, cert, key, ...)');
}

/**
 * A charset or collation mysql2 knows (`utf8mb4`, `utf8mb4_unicode_ci`, ...).
 *
 * @example
 * ```ts
 * checkCharset('utf8mb4') // 'utf8mb4'
 * ```
 */
export function checkCharset(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(value.toUpperCase() in mysql2.Charsets)) {
    throw invalidValue('option "charset"', value, 'a MySQL charset or collation such as utf8mb4 or utf8mb4_unicode_ci');
  }
  return value;
}

/**
 * `local`, `Z` or an offset `+HH:MM` / `-HH:MM`, the forms mysql2 understands.
 *
 * @example
 * ```ts
 * checkTimezone('+02:00') // '+02:00'
 * ```
 */
export function checkTimezone(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^(?:local|Z|[+-]\d\d:\d\d)$/.test(value)) {
    throw invalidValue('option "timezone"', value, '"local", "Z" or an offset such as "+02:00"');
  }
  return value;
}

/**
 * Extra mysql2 options: a plain object that does not repeat an option `MysqlConfig` owns.
 *
 * @example
 * ```ts
 * checkDriverOptions({ supportBigNumbers: true }) // { supportBigNumbers: true }
 * ```
 */
export function checkDriverOptions(value: unknown): MysqlDriverOptions {
  if (value === undefined) return {};
  if (!isPlainObject(value))
    throw invalidValue('option "driverOptions"', value, 'an object of mysql2 connection options');
  for (const owned of OWNED_DRIVER_OPTIONS) {
    if (owned in value) {
      throw configurationError(`driverOptions.${owned} is not allowed; set ${OWNED_REPLACEMENT[owned]} instead`);
    }
  }
  return value as MysqlDriverOptions;
}

const OWNED_REPLACEMENT: Readonly<Record<(typeof OWNED_DRIVER_OPTIONS)[number], string>> = {
  uri: '"url"',
  host: '"host"',
  port: '"port"',
  user: '"user"',
  password: '"password"',
  database: '"database"',
  ssl: '"ssl"',
  charset: '"charset"',
  timezone: '"timezone"',
  connectTimeout: '"connectTimeoutMs"',
};

/**
 * Whether `value` is a plain object (not an array, class instance or null).
 *
 * @example
 * ```ts
 * isPlainObject({}) // true; isPlainObject([]) // false
 * ```
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
