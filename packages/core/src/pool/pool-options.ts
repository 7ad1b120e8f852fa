/** Pool settings, with SQLAlchemy's semantics. */
export interface PoolOptions {
  /** Connections kept open. Default 5 (SQLite: 1). */
  readonly size?: number;
  /** Extra connections allowed under load; closed when returned. Default 10 (SQLite: 0). */
  readonly maxOverflow?: number;
  /** How long `acquire` waits before `PoolTimeoutError`. Default 30000; must be finite. */
  readonly timeoutMs?: number;
  /** Maximum connection age, checked at checkout; older connections are replaced. */
  readonly recycleMs?: number;
  /** Ping at checkout; on failure replace the connection and invalidate every older idle one. Default true. */
  readonly prePing?: boolean;
  /** Hand out the most recently returned connection first. Default false (FIFO). */
  readonly lifo?: boolean;
  /** Close an idle connection unused this long (the pool refills to `size` lazily). */
  readonly idleTimeoutMs?: number;
  /**
   * Report a connection held longer than this many milliseconds: the factory emits one `leak`
   * event per checkout, with the stack where the connection was acquired (HikariCP's
   * `leakDetectionThreshold`). Off by default; while off, no stack is captured and no timer runs.
   *
   * @example
   * ```ts
   * const sf = createSessionFactory(adapter, { pool: { leakDetectionMs: 10_000 } })
   * sf.on('leak', ({ connectionId, sessionId, heldMs, stack }) =>
   *   console.warn(`connection ${connectionId} (${sessionId ?? 'no session'}) held ${heldMs} ms, acquired at\n${stack}`))
   * ```
   */
  readonly leakDetectionMs?: number;
}

/** Gauges and counters of `sf.stats()`. */
export interface PoolStats {
  /** Open connections (idle + in use). */
  readonly open: number;
  readonly idle: number;
  readonly inUse: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
  /** Connections opened since the factory was created. */
  readonly created: number;
  /** Connections closed since the factory was created (any reason). */
  readonly destroyed: number;
  /** Acquires that ended in `PoolTimeoutError`. */
  readonly timeouts: number;
  /** Connections replaced because they were older than `recycleMs`. */
  readonly recycled: number;
  /** Connections discarded as broken (failed ping, lost connection, failed BEGIN/COMMIT/ROLLBACK). */
  readonly invalidated: number;
}
