import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Adapter, DriverConnection } from '../adapter/adapter.js';
import type { EventHub } from '../events/event-hub.js';
import type { Pool } from '../pool/pool.js';
import type { ReplicaSet } from '../replicas/replica-set.js';
import type { Activity } from './activity.js';
import type { QueryRunner } from './query-runner.js';
import type { Scope } from './scope.js';

/** What every part of one factory's engine shares. */
export interface EngineContext {
  readonly adapter: Adapter;
  readonly pool: Pool<DriverConnection>;
  readonly hub: EventHub;
  readonly runner: QueryRunner;
  /** Read replicas (`FactoryOptions.replicas`); undefined without them, so nothing routes. */
  readonly replicas?: ReplicaSet | undefined;
  /** Per factory, so two factories never see each other's sessions. */
  readonly ambient: AsyncLocalStorage<AmbientContext>;
  /** Work in flight, drained by `close()`. */
  readonly activity: Activity;
  isClosed(): boolean;
  /** Throws `FactoryClosedError` once `close()` began. */
  assertOpen(): void;
  nextSessionId(): string;
}

/**
 * What the factory's AsyncLocalStorage holds inside a scope: the innermost transactional
 * scope, or `undefined` inside a scope that runs without a transaction (`notSupported`,
 * `never`, `supports` outside a session), so `sf.db` does not join an outer one.
 */
export interface AmbientContext {
  readonly scope: Scope | undefined;
}
