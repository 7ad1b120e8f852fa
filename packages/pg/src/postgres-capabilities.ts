import type { AdapterCapabilities } from '@sessionfactory/core';

/**
 * What Postgres can do. READ UNCOMMITTED is declared as READ COMMITTED because that is
 * what Postgres really runs for it.
 */
export const postgresCapabilities: AdapterCapabilities = {
  isolation: {
    'read uncommitted': 'read committed',
    'read committed': 'read committed',
    'repeatable read': 'repeatable read',
    serializable: 'serializable',
  },
  readOnly: true,
  savepoints: true,
  cancel: true,
  sync: 'worker',
  sharedDatabase: true,
  transactionalDdl: true,
  returning: true,
  concurrencyErrors: ['SERIALIZATION_FAILURE', 'DEADLOCK', 'LOCK_TIMEOUT'],
};
