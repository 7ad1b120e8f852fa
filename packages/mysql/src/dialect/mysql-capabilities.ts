import type { AdapterCapabilities } from '@sessionfactory/core';

/**
 * What MySQL/MariaDB (InnoDB) really do. Every isolation level runs as itself; REPEATABLE
 * READ reads one snapshot (no read skew) but, unless `innodb_snapshot_isolation` is on,
 * detects no write skew or lost update without locking reads. SERIALIZABLE is built from
 * locks, so contention shows up as deadlocks and lock timeouts, not serialization failures.
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
