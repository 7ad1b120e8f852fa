import { ConnectionError } from '@sessionfactory/core';
import type { DriverConnection } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';

/**
 * The node's Galera state. `SHOW ... STATUS` still answers on a node outside the primary
 * component (where other statements get 1047), and returns no rows on a server without Galera.
 */
export const GALERA_STATE_QUERY = CompiledQuery.raw(
  "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state')",
);

/** `wsrep_local_state` of a node that is a synced member of the primary component. */
const SYNCED = '4';

/**
 * Refuses a connection to a Galera node that cannot serve sessions (not `wsrep_ready=ON` and
 * `wsrep_local_state=4`, Synced): a joiner, a donor, a node cut off from the primary component.
 * A server without Galera passes. Throws a `ConnectionError`, which makes a host list move on.
 *
 * @example
 * ```ts
 * await assertGaleraNodeReady(connection, '127.0.0.1:3313')
 * // throws ConnectionError: Galera node 127.0.0.1:3313 is not ready (wsrep_ready=OFF, wsrep_local_state=0) ...
 * ```
 */
export async function assertGaleraNodeReady(connection: DriverConnection, where: string): Promise<void> {
  const { rows } = await connection.execute(GALERA_STATE_QUERY);
  const state = new Map(
    (rows as { Variable_name?: unknown; Value?: unknown }[]).map((row) => [
      String(row.Variable_name).toLowerCase(),
      String(row.Value),
    ]),
  );
  if (state.size === 0) return;
  const ready = state.get('wsrep_ready');
  const local = state.get('wsrep_local_state');
  if (ready === 'ON' && local === SYNCED) return;
  throw new ConnectionError(
    `Galera node ${where} is not ready (wsrep_ready=${ready ?? '?'}, wsrep_local_state=${local ?? '?'}; 4 is Synced): it is joining, donating or cut off from the primary component. Sessions go to the next host of the list.`,
    { dialect: 'mysql' },
  );
}
