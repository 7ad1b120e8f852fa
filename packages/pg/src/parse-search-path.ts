const ALLOWED = 'a schema name, a comma-separated list of schema names, or an array of schema names';

/**
 * Normalizes a `searchPath` option (or `search_path` URL parameter) to a list of schema names. A
 * string is split on commas (as `SET search_path` reads it); an array is taken name by name.
 * Anything else, or an empty name, is passed to `reject` with what is allowed, and the error it
 * returns is thrown.
 *
 * @example
 * ```ts
 * const reject = (value: unknown, allowed: string) => invalidOption('postgres', 'searchPath', value, allowed)
 * parseSearchPath('app, public', reject) // ['app', 'public']
 * parseSearchPath(['my,schema'], reject)  // ['my,schema']
 * ```
 */
export function parseSearchPath(
  value: unknown,
  reject: (value: unknown, allowed: string) => Error,
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const names =
    typeof value === 'string'
      ? value.split(',').map((name) => name.trim())
      : Array.isArray(value) && value.every((name) => typeof name === 'string')
        ? (value as string[])
        : undefined;
  if (names === undefined || names.length === 0 || names.some((name) => name === '')) {
    throw reject(value, ALLOWED);
  }
  return names;
}
