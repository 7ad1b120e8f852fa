import type { AdapterCapabilities } from '@sessionfactory/core';

/**
 * What MySQL/MariaDB (InnoDB) really do. Every isolation level runs as itself; REPEATABLE
 * READ reads one snapshot (no read skew) but never detects write skew, and lost updates only
 * with `innodb_snapshot_isolation=ON` (off on MariaDB 10.11; it then raises 1020). SERIALIZABLE
 * is built from locks, so contention shows up as deadlocks and lock timeouts.
 *
 * @example
 * ```ts
 * mysqlCapabilities.isolation['read committed'] // 'read committed'
 * ```
 */
export const mysqlCapabilities: AdapterCapabilities = {
  isolation: {
    'read uncommitted': 'read uncommitted',
    'read committed': 'read committed',
    'repeatable read': 'repeatable read',
    serializable: 'serializable',
  },
  readOnly: true,
  savepoints: true,
  cancel: true,
  sync: 'worker',
  sharedDatabase: true,
  transactionalDdl: false,
  returning: false,
  concurrencyErrors: ['DEADLOCK', 'LOCK_TIMEOUT'],
};
