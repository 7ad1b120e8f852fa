import type { CompiledQuery, QueryResult } from 'kysely';
import type { DriverConnection } from '../adapter/adapter.js';
import { isConnectionLost } from '../errors/to-session-factory-error.js';
import type { PooledConnection } from '../pool/pool.js';
import type { EngineContext } from '../session/engine-context.js';
import type { SessionEngine } from '../session/session-engine.js';
import { isPending } from '../util/is-pending.js';

const READER = { role: 'reader' } as const;

/**
 * Runs one compiled query for `sf.db` and prepared queries, without Kysely's executor in between: inside the
 * ambient transaction of this factory on its connection, otherwise on a pooled connection that
 * goes back right after (checked out as a reader: a single statement holds no lock across awaits).
 * A connection the statement lost is destroyed instead of returned. Promise chains rather than
 * async functions: this is the prepared queries' hot path.
 *
 * @example
 * ```ts
 * const result = await runCompiled(sessions, CompiledQuery.raw('select 1'))
 * ```
 */
export function runCompiled(sessions: SessionEngine, query: CompiledQuery): Promise<QueryResult<unknown>> {
  const scope = sessions.ambientScope();
  if (scope) return sessions.execute(scope, query);
  const engine = sessions.context;
  try {
    engine.assertOpen();
  } catch (error) {
    return Promise.reject(error);
  }
  engine.activity.enter();
  // An idle connection at hand needs no promise to get it.
  const idle = engine.pool.tryAcquireIdle(READER);
  if (idle !== undefined) return runOn(engine, idle, query);
  return engine.pool.acquire(READER).then(
    (pooled) => runOn(engine, pooled, query),
    (error: unknown) => {
      engine.activity.leave();
      throw error;
    },
  );
}

function runOn(
  engine: EngineContext,
  pooled: PooledConnection<DriverConnection>,
  query: CompiledQuery,
): Promise<QueryResult<unknown>> {
  let outcome: QueryResult<unknown> | Promise<QueryResult<unknown>>;
  try {
    outcome = engine.runner.executeNow(pooled, query, undefined);
  } catch (error) {
    return giveBackAfterFailure(engine, pooled, error);
  }
  // A driver that answered at once (SQLite): the connection goes back now, and one resolved
  // promise is all this statement costs.
  if (!isPending(outcome)) {
    try {
      giveBack(engine, pooled);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(outcome);
  }
  return outcome.then(
    (result) => {
      giveBack(engine, pooled);
      return result;
    },
    (error: unknown) => giveBackAfterFailure(engine, pooled, error),
  );
}

function giveBack(engine: EngineContext, pooled: PooledConnection<DriverConnection>): void {
  engine.pool.release(pooled);
  engine.activity.leave();
}

/** A connection the statement lost is destroyed instead of pooled; the statement's error stands. */
async function giveBackAfterFailure(
  engine: EngineContext,
  pooled: PooledConnection<DriverConnection>,
  error: unknown,
): Promise<never> {
  try {
    if (isConnectionLost(error, engine.adapter))
      await engine.pool.invalidate(pooled, 'connection lost outside a session');
    else engine.pool.release(pooled);
  } finally {
    engine.activity.leave();
  }
  throw error;
}
