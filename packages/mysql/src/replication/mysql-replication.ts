import type { Adapter, ReplicationSupport } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
import { type GtidPositions, mariadbGtids, mysqlGtids } from './gtid-position.js';

/** Which server family's replication SQL to use: MariaDB's GTIDs or MySQL 8's. */
export type MysqlFlavor = 'mariadb' | 'mysql';

/** The flavours `flavor` accepts. */
export const MYSQL_FLAVORS: readonly MysqlFlavor[] = ['mariadb', 'mysql'];

interface FlavorSql {
  readonly positions: GtidPositions;
  readonly positionSql: string;
  /** A `SHOW` statement: its columns cannot be aliased, so they are read by name. */
  readonly replicaStatusSql: string;
  readonly positionColumn: string;
  readonly lagColumn: string;
  readonly waitSql: string;
}

// Every value reaches the server as a parameter (`?`); nothing is spliced into the SQL.
const FLAVOR_SQL: Readonly<Record<MysqlFlavor, FlavorSql>> = {
  mariadb: {
    positions: mariadbGtids,
    positionSql: 'SELECT @@global.gtid_binlog_pos AS position',
    // ALL: plain SHOW SLAVE STATUS has no Gtid_Slave_Pos column.
    replicaStatusSql: 'SHOW ALL SLAVES STATUS',
    positionColumn: 'Gtid_Slave_Pos',
    lagColumn: 'Seconds_Behind_Master',
    // 0 once reached, -1 after the timeout (in seconds).
    waitSql: 'SELECT MASTER_GTID_WAIT(?, ?) = 0 AS reached',
  },
  mysql: {
    positions: mysqlGtids,
    positionSql: 'SELECT @@global.gtid_executed AS position',
    replicaStatusSql: 'SHOW REPLICA STATUS',
    positionColumn: 'Executed_Gtid_Set',
    lagColumn: 'Seconds_Behind_Source',
    // 0 once reached, 1 after the timeout (in seconds).
    waitSql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) = 0 AS reached',
  },
};

/**
 * Core's replica routing for MySQL and MariaDB, by GTID: after a write commits the primary's
 * executed GTIDs are the consistency token; a replica read first waits on the replica with
 * `MASTER_GTID_WAIT` (MariaDB) or `WAIT_FOR_EXECUTED_GTID_SET` (MySQL 8) for at most the time
 * core allows, else core runs it on the primary. A replica's position and lag come from one
 * `SHOW ALL SLAVES STATUS` row (`Gtid_Slave_Pos`, `Seconds_Behind_Master`; MySQL: `SHOW REPLICA
 * STATUS`, `Executed_Gtid_Set`, `Seconds_Behind_Source`); NULL lag (the SQL thread stopped) is
 * unknown, so reads that need a position wait for it.
 *
 * @example
 * ```ts
 * const support = mysqlReplication('mariadb', (url) => mysql(url))
 * support.waitForPosition!('0-1-42', 500) // SELECT MASTER_GTID_WAIT(?, ?) = 0 AS reached ['0-1-42', 0.5]
 * ```
 */
export function mysqlReplication(flavor: MysqlFlavor, replicaAdapter: (url: string) => Adapter): ReplicationSupport {
  const sql = FLAVOR_SQL[flavor];
  return {
    positionSql: sql.positionSql,
    replicaStatusSql: sql.replicaStatusSql,
    // No row (not a replica) or NULL values: unknown.
    parseStatus(row) {
      const position = row[sql.positionColumn];
      const seconds = row[sql.lagColumn];
      return {
        position: typeof position === 'string' && position.trim() !== '' ? position : undefined,
        lagMs: seconds === null || seconds === undefined || seconds === '' ? undefined : Number(seconds) * 1000,
      };
    },
    waitForPosition: (position, timeoutMs) => CompiledQuery.raw(sql.waitSql, [position, Math.max(timeoutMs, 1) / 1000]),
    isPosition: (token) => sql.positions.isPosition(token),
    hasReached: (replayed, target) => sql.positions.hasReached(replayed, target),
    combine: (a, b) => sql.positions.combine(a, b),
    replicaAdapter,
  };
}
