import { configProblem } from './config-problem.js';

const ALLOWED = 'a schema name, a comma-separated list of schema names, or an array of schema names';

/**
 * Normalizes a `searchPath` option to a list of schema names. A string is split on commas
 * (as `SET search_path` reads it); an array is taken name by name.
 *
 * @example
 * ```ts
 * parseSearchPath('searchPath', 'app, public') // ['app', 'public']
 * parseSearchPath('searchPath', ['my,schema'])  // ['my,schema']
 * ```
 */
export function parseSearchPath(option: string, value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const names =
    typeof value === 'string'
      ? value.split(',').map((name) => name.trim())
      : Array.isArray(value) && value.every((name) => typeof name === 'string')
        ? (value as string[])
        : undefined;
  if (names === undefined || names.length === 0 || names.some((name) => name === '')) {
    throw configProblem(option, value, ALLOWED);
  }
  return names;
}
