import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '@sessionfactory/core';
import { redactPassword } from '@sessionfactory/core/adapter';
import { MEMORY_FILENAME } from './sqlite-config.js';

/** A `sqlite:` or `file:` URL split into the path SQLite opens and its query parameters. */
export interface SqliteUrl {
  /** A filesystem path (relative paths stay relative to the working directory), or `':memory:'`. */
  readonly filename: string;
  readonly params: Readonly<Record<string, string>>;
}

const SQLITE_URL = /^(sqlite|file):/i;
const OTHER_URL = /^([a-z][a-z0-9+.-]*):\/\//i;
const ALLOWED_FORMS =
  "a filename, ':memory:', sqlite::memory:, sqlite:relative.db, sqlite:///absolute/path.db, file:relative.db or file:///absolute/path.db";

/**
 * Whether `input` is a URL this adapter reads (`sqlite:` or `file:`) rather than a plain filename.
 *
 * @example
 * ```ts
 * isSqliteUrl('sqlite:app.db') // true
 * isSqliteUrl('data/app.db') // false
 * ```
 */
export function isSqliteUrl(input: string): boolean {
  return SQLITE_URL.test(input);
}

/**
 * Rejects URLs of other databases passed where a SQLite filename is expected, so that a
 * `postgres://user:secret@...` string never becomes a file path (or a message with its password).
 *
 * @example
 * ```ts
 * assertNotForeignUrl('app.db') // ok
 * assertNotForeignUrl('postgres://app@db/app') // throws ConfigurationError
 * ```
 */
export function assertNotForeignUrl(input: string): void {
  const scheme = OTHER_URL.exec(input)?.[1];
  if (scheme === undefined || isSqliteUrl(input)) return;
  throw new ConfigurationError(
    `Invalid SQLite option filename: ${JSON.stringify(redactPassword(input))} is a ${scheme}: URL; expected ${ALLOWED_FORMS}`,
    { dialect: 'sqlite' },
  );
}

/**
 * Turns a `sqlite:` or `file:` URL into the path SQLite opens. better-sqlite3 is built
 * without URI filenames, so the adapter decodes URLs itself instead of passing them on.
 *
 * @example
 * ```ts
 * parseSqliteUrl('sqlite:///var/lib/app.db') // { filename: '/var/lib/app.db', params: {} }
 * parseSqliteUrl('sqlite:app.db?readonly=true') // { filename: 'app.db', params: { readonly: 'true' } }
 * parseSqliteUrl('sqlite::memory:') // { filename: ':memory:', params: {} }
 * ```
 */
export function parseSqliteUrl(url: string): SqliteUrl {
  const rest = url.replace(SQLITE_URL, '');
  const queryStart = rest.search(/[?#]/);
  const pathPart = queryStart === -1 ? rest : rest.slice(0, queryStart);
  const query = queryStart === -1 ? '' : rest.slice(queryStart);
  if (query.includes('#')) throw invalidUrl(url, 'a URL fragment (#...) means nothing to SQLite');
  const params = Object.fromEntries(new URLSearchParams(query.slice(1)));
  const filename = toFilename(url, pathPart);
  if (filename === '') throw invalidUrl(url, 'it names no database file');
  return { filename, params };
}

function toFilename(url: string, pathPart: string): string {
  if (pathPart === `//${MEMORY_FILENAME}`) return MEMORY_FILENAME;
  if (!pathPart.startsWith('//')) return decode(url, pathPart);
  try {
    // Same rules as file URLs: empty host or localhost, percent-decoding, Windows drive letters.
    return fileURLToPath(`file:${pathPart}`);
  } catch {
    throw invalidUrl(url, 'a SQLite URL has no host: use sqlite:relative.db or sqlite:///absolute/path.db');
  }
}

function decode(url: string, path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw invalidUrl(url, 'it has a malformed percent-escape');
  }
}

function invalidUrl(url: string, reason: string): ConfigurationError {
  return new ConfigurationError(
    `Invalid SQLite URL ${JSON.stringify(redactPassword(url))}: ${reason}; expected ${ALLOWED_FORMS}`,
    { dialect: 'sqlite' },
  );
}
