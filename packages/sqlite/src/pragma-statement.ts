import { invalidOption } from './invalid-option.js';

const PRAGMA_NAME = /^(?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/;
const BARE_VALUE = /^(?:-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Builds `PRAGMA name = value` from a `pragmas` entry. The name must be an identifier
 * (optionally `schema.name`); a value that is not a number or a keyword becomes a quoted
 * string literal, so a pragma value can never smuggle in a second statement.
 *
 * @example
 * ```ts
 * pragmaStatement('synchronous', 'NORMAL') // 'PRAGMA synchronous = NORMAL'
 * pragmaStatement('cache_size', -64000) // 'PRAGMA cache_size = -64000'
 * pragmaStatement('recursive_triggers', true) // 'PRAGMA recursive_triggers = ON'
 * ```
 */
export function pragmaStatement(name: string, value: unknown): string {
  if (!PRAGMA_NAME.test(name)) {
    throw invalidOption('pragmas', name, 'pragma names that are identifiers, e.g. { cache_size: -64000 }');
  }
  return `PRAGMA ${name} = ${pragmaValue(name, value)}`;
}

function pragmaValue(name: string, value: unknown): string {
  if (typeof value === 'boolean') return value ? 'ON' : 'OFF';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value !== '') {
    return BARE_VALUE.test(value) ? value : `'${value.replaceAll("'", "''")}'`;
  }
  throw invalidOption(`pragmas.${name}`, value, 'a boolean, a finite number or a non-empty string');
}
