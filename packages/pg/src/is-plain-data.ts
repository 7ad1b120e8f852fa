import { isPlainObject } from './config-checks.js';

/**
 * Whether `value` survives `structuredClone` unchanged in meaning: primitives, arrays, plain
 * objects and byte arrays only. Functions fail to clone, and class instances would arrive
 * without their methods, so both are refused.
 *
 * @example
 * ```ts
 * isPlainData({ host: 'db', ssl: { ca: Buffer.from('...') } }) // true
 * isPlainData({ driverOptions: { types: { getTypeParser() {} } } }) // false
 * ```
 */
export function isPlainData(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint') return true;
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.every(isPlainData);
  if (isPlainObject(value)) return Object.values(value).every(isPlainData);
  return false;
}
