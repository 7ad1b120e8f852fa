import type { Adapter } from '../adapter/adapter.js';
import { redactPassword } from '../errors/redact.js';

/** The attributes every span and metric of one factory carries (OpenTelemetry database conventions). */
export interface DbTarget {
  readonly 'db.system.name': string;
  readonly 'db.namespace'?: string;
  readonly 'server.address'?: string;
  readonly 'server.port'?: number;
}

/** Adapter dialect to `db.system.name`. */
const SYSTEMS: Readonly<Record<string, string>> = { postgres: 'postgresql', mysql: 'mysql', sqlite: 'sqlite' };

/** Default ports, for `server.port` when the description leaves it out. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { postgresql: 5432, mysql: 3306, mariadb: 3306 };

/**
 * The database attributes of an adapter, read from its description (a URL with the password
 * already redacted, or a file name for SQLite); never the user name or password.
 *
 * @example
 * ```ts
 * dbTarget(postgres('postgres://app:pw@db:6432/shop'))
 * // { 'db.system.name': 'postgresql', 'db.namespace': 'shop', 'server.address': 'db', 'server.port': 6432 }
 * ```
 */
export function dbTarget(adapter: Adapter): DbTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(adapter.description)?.[1]?.toLowerCase();
  const system = scheme === 'mariadb' ? 'mariadb' : (SYSTEMS[adapter.dialect] ?? String(adapter.dialect));
  if (scheme === undefined) {
    const file = redactPassword(adapter.description);
    return { 'db.system.name': system, ...(file ? { 'db.namespace': file } : {}) };
  }
  let url: URL;
  try {
    url = new URL(adapter.description);
  } catch {
    return { 'db.system.name': system };
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const socket = url.searchParams.get('host');
  const address = url.hostname === '' ? (socket ?? undefined) : url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? DEFAULT_PORTS[system] : Number(url.port);
  return {
    'db.system.name': system,
    ...(database ? { 'db.namespace': database } : {}),
    ...(address ? { 'server.address': address } : {}),
    ...(address && port !== undefined && !address.startsWith('/') ? { 'server.port': port } : {}),
  };
}

/**
 * `db.client.connection.pool.name` when none is given: `address:port/namespace` as the
 * conventions suggest, or the namespace alone (SQLite's file).
 *
 * @example
 * ```ts
 * defaultPoolName({ 'db.system.name': 'postgresql', 'server.address': 'db', 'server.port': 5432, 'db.namespace': 'shop' }) // 'db:5432/shop'
 * ```
 */
export function defaultPoolName(target: DbTarget): string {
  const address = target['server.address'];
  if (address === undefined) return target['db.namespace'] ?? target['db.system.name'];
  const port = target['server.port'] === undefined ? '' : `:${target['server.port']}`;
  return `${address}${port}/${target['db.namespace'] ?? ''}`;
}

/** SQL keywords that name an operation (the first one after a leading WITH clause is the operation). */
const OPERATIONS = /\b(select|insert|update|delete|merge|replace|upsert)\b/i;

/**
 * `db.operation.name` of a statement: its first keyword (upper case), or for `WITH ...` the
 * first data operation after it; undefined for text that starts with no word.
 *
 * @example
 * ```ts
 * operationName('select * from "t"')                       // 'SELECT'
 * operationName('with x as (select 1) delete from t ...')  // 'DELETE'
 * ```
 */
export function operationName(sql: string): string | undefined {
  const first = /^[\s(]*([a-z]+)/i.exec(stripLeadingComments(sql))?.[1];
  if (first === undefined) return undefined;
  const upper = first.toUpperCase();
  if (upper !== 'WITH') return upper;
  const after = /\)\s*(select|insert|update|delete|merge)\b/i.exec(sql)?.[1] ?? OPERATIONS.exec(sql)?.[1];
  return after?.toUpperCase() ?? upper;
}

function stripLeadingComments(sql: string): string {
  let rest = sql.trimStart();
  for (;;) {
    if (rest.startsWith('--')) {
      const end = rest.indexOf('\n');
      rest = end < 0 ? '' : rest.slice(end + 1).trimStart();
    } else if (rest.startsWith('/*')) {
      const end = rest.indexOf('*/');
      rest = end < 0 ? '' : rest.slice(end + 2).trimStart();
    } else {
      return rest;
    }
  }
}
