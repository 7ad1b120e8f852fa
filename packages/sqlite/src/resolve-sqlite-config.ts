import { ConfigurationError } from '@sessionfactory/core';
import { findControlCharacter } from '@sessionfactory/core/adapter';
import { invalidOption, unknownOption } from './invalid-option.js';
import { assertNotForeignUrl, isSqliteUrl, parseSqliteUrl } from './parse-sqlite-url.js';
import { pragmaStatement } from './pragma-statement.js';
import {
  DEFAULT_BUSY_TIMEOUT_MS,
  MAX_BUSY_TIMEOUT_MS,
  MEMORY_FILENAME,
  type ResolvedSqliteConfig,
  SQLITE_CONFIG_KEYS,
  type SqliteConfig,
} from './sqlite-config.js';
import { sqliteUrlOptions } from './sqlite-url-options.js';

/**
 * Validates what `sqlite(...)` was given and fills in the defaults. A string is a filename
 * or a URL; in a config object, `filename` may be a URL too and explicit options win over
 * the URL's query parameters. Anything invalid throws `ConfigurationError` at once.
 *
 * @example
 * ```ts
 * resolveSqliteConfig('sqlite:app.db').wal // true
 * resolveSqliteConfig({ filename: ':memory:', foreignKeys: false }).memory // true
 * ```
 */
export function resolveSqliteConfig(filenameOrConfig: string | SqliteConfig): ResolvedSqliteConfig {
  const config = toConfigObject(filenameOrConfig);
  const { filename, urlOptions } = readFilename(config.filename);
  const merged: SqliteConfig = { ...urlOptions, ...withoutUndefined(config), filename };
  const memory = filename === MEMORY_FILENAME;
  const readonly = booleanOption(merged, 'readonly', false);
  const fileMustExist = booleanOption(merged, 'fileMustExist', false);
  const wal = booleanOption(merged, 'wal', !memory && !readonly);
  if (memory) rejectForMemory({ readonly, fileMustExist, wal });
  if (readonly && wal) {
    throw invalidOption('wal', true, 'false for a read-only connection (it cannot change the journal mode)');
  }
  return {
    filename,
    memory,
    wal,
    busyTimeoutMs: busyTimeout(merged.busyTimeoutMs),
    foreignKeys: booleanOption(merged, 'foreignKeys', true),
    readonly,
    fileMustExist,
    pragmaStatements: pragmaStatements(merged.pragmas),
    nativeBinding: nativeBinding(merged.nativeBinding),
  };
}

function toConfigObject(input: unknown): SqliteConfig {
  if (typeof input === 'string') return { filename: input };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidOption('filenameOrConfig', input, 'a filename, a sqlite:/file: URL or { filename, ...options }');
  }
  for (const key of Object.keys(input)) {
    if (!(SQLITE_CONFIG_KEYS as readonly string[]).includes(key)) {
      throw unknownOption('option', key, SQLITE_CONFIG_KEYS);
    }
  }
  return input as SqliteConfig;
}

function readFilename(value: unknown): { filename: string; urlOptions: Partial<SqliteConfig> } {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption('filename', value, "a non-empty path, ':memory:' or a sqlite:/file: URL");
  }
  assertNotForeignUrl(value);
  if (!isSqliteUrl(value)) return { filename: refuseControlCharacters(value), urlOptions: {} };
  const url = parseSqliteUrl(value);
  return { filename: refuseControlCharacters(url.filename), urlOptions: sqliteUrlOptions(url.params) };
}

// SQLite's C API ends a path at a NUL: `a\0b.db` would silently open `a`.
function refuseControlCharacters(filename: string): string {
  const found = findControlCharacter(filename);
  if (found === undefined) return filename;
  throw new ConfigurationError(
    `Invalid SQLite filename: it contains the control character ${found}; control characters are not allowed in file names given to sessionfactory.`,
    { dialect: 'sqlite' },
  );
}

function withoutUndefined(config: SqliteConfig): Partial<SqliteConfig> {
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
}

function booleanOption(
  config: SqliteConfig,
  key: 'wal' | 'foreignKeys' | 'readonly' | 'fileMustExist',
  fallback: boolean,
) {
  const value: unknown = config[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(key, value, 'true or false');
  return value;
}

function rejectForMemory(options: { readonly: boolean; fileMustExist: boolean; wal: boolean }): void {
  for (const [key, value] of Object.entries(options)) {
    if (value) throw invalidOption(key, true, `false for ':memory:' (an in-memory database has no file)`);
  }
}

function busyTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_BUSY_TIMEOUT_MS;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_BUSY_TIMEOUT_MS) return value;
  throw invalidOption('busyTimeoutMs', value, `an integer number of milliseconds from 0 to ${MAX_BUSY_TIMEOUT_MS}`);
}

function pragmaStatements(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption('pragmas', value, 'an object of pragma names to values, e.g. { synchronous: "NORMAL" }');
  }
  return Object.entries(value).map(([name, v]) => pragmaStatement(name, v));
}

function nativeBinding(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  throw invalidOption('nativeBinding', value, 'the path of a better-sqlite3 .node addon');
}
