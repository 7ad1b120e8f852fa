import {
  type Adapter,
  connectPreferringTls,
  type DriverConnection,
  formatHost,
  type HostAddress,
  MultiHostConnector,
  workerBridgeSupport,
} from '@sessionfactory/core/adapter';
import type { ConnectionOptions } from 'mysql2';
import { assertGaleraNodeReady } from './cluster/galera-readiness.js';
import type { MysqlConfig } from './config/mysql-config.js';
import { resolveMysqlConfig } from './config/resolve-mysql-config.js';
import { cancelMysqlQuery } from './connection/cancel-mysql-query.js';
import { MysqlDriverConnection } from './connection/mysql-driver-connection.js';
import { mysqlCapabilities } from './dialect/mysql-capabilities.js';
import { mysqlDialectSql } from './dialect/mysql-dialect-sql.js';
import { mysqlKyselyParts } from './dialect/mysql-kysely-parts.js';
import { classifyMysqlError } from './errors/classify-mysql-error.js';
import { mysqlReplication } from './replication/mysql-replication.js';

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
  const { description, connectionOptions, preferTls, hosts, sessionSetup, flavor } = resolveMysqlConfig(urlOrConfig);
  // ssl-mode=PREFERRED: TLS when the server offers it, plaintext when it says it does not.
  const open = (options: Readonly<ConnectionOptions>) =>
    preferTls
      ? connectPreferringTls((tls) =>
          MysqlDriverConnection.open(tls ? options : { ...options, ssl: undefined }, sessionSetup),
        )
      : MysqlDriverConnection.open(options, sessionSetup);
  const connect = hosts === undefined ? () => open(connectionOptions) : hostListConnect(hosts, connectionOptions, open);
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
    connect: (): Promise<DriverConnection> => connect(),
    // KILL QUERY must reach the server the connection is on: with a host list, its own node.
    cancel: (connection: DriverConnection) =>
      cancelMysqlQuery(
        hosts !== undefined && connection instanceof MysqlDriverConnection ? connection.options : connectionOptions,
        connection,
        open,
      ),
    classifyError: classifyMysqlError,
    // Replicas given as URLs are read with the primary's flavour unless their URL says otherwise.
    replication: mysqlReplication(flavor, (url) => mysql(/[?&]flavor=/.test(url) ? url : { url, flavor })),
  };
}

/**
 * A host list (`mysql://app@n1:3306,n2:3306,n3:3306/shop`, a Galera cluster): core's
 * `MultiHostConnector` tries the hosts in order, recently failed ones last. A host counts as
 * failed when it refuses the connection or is a Galera node not ready for sessions (see
 * `assertGaleraNodeReady`), so new connections move on to the next node with no manual step.
 * Every host is taken as it is (`target_session_attrs=any`): Galera nodes all accept writes.
 */
function hostListConnect(
  hosts: readonly HostAddress[],
  connectionOptions: Readonly<ConnectionOptions>,
  open: (options: Readonly<ConnectionOptions>) => Promise<MysqlDriverConnection>,
): () => Promise<MysqlDriverConnection> {
  const connector = new MultiHostConnector<MysqlDriverConnection>({
    dialect: 'mysql',
    hosts,
    target: 'any',
    open: (host) => open({ ...connectionOptions, host: host.host, port: host.port }),
    healthCheck: (connection) =>
      assertGaleraNodeReady(
        connection,
        formatHost({ host: String(connection.options.host), port: connection.options.port }),
      ),
    // Only asked for other targets than `any`; no role is ever needed here.
    role: async () => ({ readOnly: false, standby: false }),
    close: (connection) => connection.close(),
    classifyError: classifyMysqlError,
  });
  return () => connector.connect();
}
