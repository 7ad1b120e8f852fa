import {
  type Adapter,
  connectPreferringTls,
  type DriverConnection,
  workerBridgeSupport,
} from '@sessionfactory/core/adapter';
import type { ConnectionOptions } from 'mysql2';
import type { MysqlConfig } from './config/mysql-config.js';
import { resolveMysqlConfig } from './config/resolve-mysql-config.js';
import { cancelMysqlQuery } from './connection/cancel-mysql-query.js';
import { MysqlDriverConnection } from './connection/mysql-driver-connection.js';
import { mysqlCapabilities } from './dialect/mysql-capabilities.js';
import { mysqlDialectSql } from './dialect/mysql-dialect-sql.js';
import { mysqlKyselyParts } from './dialect/mysql-kysely-parts.js';
import { classifyMysqlError } from './errors/classify-mysql-error.js';

/**
 * The MySQL/MariaDB adapter over mysql2, for `createSessionFactory`. Checks its input at
 * once (a bad option throws `ConfigurationError`) and opens nothing until core asks.
 *
 * @example
 * ```ts
 * import { createSessionFactory } from '@sessionfactory/core'
 * import { mysql } from '@sessionfactory/mysql'
 *
 * const sf = createSessionFactory<DB>(mysql('mysql://app:secret@localhost:3306/shop'))
 * const sf2 = createSessionFactory<DB>(mysql({ host: 'db', user: 'app', password, database: 'shop', ssl: true }))
 * ```
 */
export function mysql(urlOrConfig: string | MysqlConfig): Adapter {
  const { description, connectionOptions, preferTls } = resolveMysqlConfig(urlOrConfig);
  // ssl-mode=PREFERRED: TLS when the server offers it, plaintext when it says it does not.
  const open = (options: Readonly<ConnectionOptions>) =>
    preferTls
      ? connectPreferringTls((tls) => MysqlDriverConnection.open(tls ? options : { ...options, ssl: undefined }))
      : MysqlDriverConnection.open(options);
  return {
    dialect: 'mysql',
    description,
    // Functions in driverOptions (typeCast, stream, ...) cannot reach a worker: sync scopes are then off.
    ...workerBridgeSupport({
      module: '@sessionfactory/mysql',
      resolveFrom: import.meta.url,
      exportName: 'mysql',
      input: urlOrConfig,
      capabilities: mysqlCapabilities,
    }),
    sql: mysqlDialectSql,
    kysely: mysqlKyselyParts,
    connect: (): Promise<DriverConnection> => open(connectionOptions),
    cancel: (connection: DriverConnection) => cancelMysqlQuery(connectionOptions, connection, open),
    classifyError: classifyMysqlError,
  };
}
