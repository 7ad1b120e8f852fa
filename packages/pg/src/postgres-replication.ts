import type { Adapter, ReplicationSupport } from '@sessionfactory/core/adapter';
import type { PostgresConfig } from './postgres-config.js';

/** `0/3000148`: two hexadecimal halves of a 64-bit WAL position. */
const LSN = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

/** Session settings a replica URL inherits from the primary's config (server, credentials and TLS come from the URL). */
const INHERITED: readonly (keyof PostgresConfig)[] = [
  'applicationName',
  'searchPath',
  'statementTimeoutMs',
  'options',
  'channelBinding',
  'keepAlive',
  'keepAliveIdleMs',
  'connectTimeoutMs',
  'statementCacheSize',
  'driverOptions',
];

/**
 * A WAL position (`pg_lsn` text) as a number that orders like the server orders them.
 *
 * @example
 * ```ts
 * lsnValue('1/0') > lsnValue('0/FFFFFFFF') // true
 * ```
 */
export function lsnValue(lsn: string): bigint {
  const match = LSN.exec(lsn);
  if (!match) throw new TypeError(`Not a Postgres WAL position: ${JSON.stringify(lsn.slice(0, 40))}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/**
 * Postgres' replication data for core's replica routing: positions are WAL LSNs. After a write
 * commits the primary reports `pg_current_wal_lsn()` (at or past the commit record); a replica
 * reports `pg_last_wal_replay_lsn()` and its lag, which is 0 while it has replayed everything
 * it received and otherwise the age of the last replayed transaction (so an idle primary does
 * not make a replica look late). Postgres 15 has no server-side wait, so core polls.
 *
 * @example
 * ```ts
 * const replication = postgresReplication('postgres://app@primary/app', postgres)
 * replication.hasReached('0/3000200', '0/3000148') // true
 * ```
 */
export function postgresReplication(
  primary: string | PostgresConfig,
  open: (urlOrConfig: string | PostgresConfig) => Adapter,
): ReplicationSupport {
  return {
    positionSql: 'SELECT pg_current_wal_lsn()::text AS position',
    replicaStatusSql: `SELECT pg_last_wal_replay_lsn()::text AS position,
  (CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
        ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000, 0)
   END)::float8 AS lag_ms`,
    isPosition: (token) => LSN.test(token),
    hasReached: (replayed, target) => lsnValue(replayed) >= lsnValue(target),
    combine: (a, b) => (lsnValue(a) >= lsnValue(b) ? a : b),
    replicaAdapter: (url) => {
      if (typeof primary === 'string') return open(url);
      const inherited = Object.fromEntries(
        INHERITED.filter((key) => primary[key] !== undefined).map((key) => [key, primary[key]]),
      );
      return open({ ...inherited, url });
    },
  };
}
