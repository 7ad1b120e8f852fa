import { ConnectionError } from '../errors/error-classes.js';
import { redactPassword } from '../errors/redact.js';
import type { ErrorClassification } from './adapter.js';
import { invalidUrlParameter } from './config-problem.js';
import type { HostAddress } from './host-list.js';

/**
 * Which server of a host list a connection must reach (libpq's `target_session_attrs`):
 * `any` the first that answers; `read-write` one that accepts writes; `read-only` one that does
 * not; `primary` one not in recovery; `standby` one in recovery; `prefer-standby` a standby if any
 * answers, else any.
 */
export type TargetSessionAttrs = 'any' | 'read-write' | 'read-only' | 'primary' | 'standby' | 'prefer-standby';

/** Every `target_session_attrs` value, as libpq spells them. */
export const TARGET_SESSION_ATTRS: readonly TargetSessionAttrs[] = [
  'any',
  'read-write',
  'read-only',
  'primary',
  'standby',
  'prefer-standby',
];

/** What a server said about itself right after connecting. */
export interface ServerRole {
  /** New transactions are read-only by default (a standby, or `default_transaction_read_only`). */
  readonly readOnly: boolean;
  /** The server replays a primary's log (Postgres `pg_is_in_recovery()`). */
  readonly standby: boolean;
}

/** How long a host that failed, or had the wrong role, goes to the back of the line. */
export const DEFAULT_HOST_RECHECK_MS = 10_000;

/**
 * Reads a `target_session_attrs` URL parameter; a value libpq does not know is a
 * `ConfigurationError` listing the allowed ones.
 *
 * @example
 * ```ts
 * parseTargetSessionAttrs('postgres', 'read-write') // 'read-write'
 * parseTargetSessionAttrs('postgres', 'master')     // throws ConfigurationError
 * ```
 */
export function parseTargetSessionAttrs(dialect: string, value: string): TargetSessionAttrs {
  if ((TARGET_SESSION_ATTRS as readonly string[]).includes(value)) return value as TargetSessionAttrs;
  throw invalidUrlParameter(dialect, 'target_session_attrs', value, `one of ${TARGET_SESSION_ATTRS.join(', ')}`);
}

/** What {@link MultiHostConnector} needs from an adapter: how to open, inspect and close one connection. */
export interface MultiHostOptions<C> {
  /** Where the adapter is (for messages): `postgres`, `mysql`. */
  readonly dialect: string;
  /** Tried in this order, except that recently failed hosts go last. At least one. */
  readonly hosts: readonly HostAddress[];
  readonly target: TargetSessionAttrs;
  /** Opens a connection to one host; its errors count as that host failing. */
  open(host: HostAddress): Promise<C>;
  /**
   * Asks a fresh connection for its role (only when `target` is not `any`). Throwing rejects the
   * host like a failed connect (a Galera node that is not synced, say).
   */
  role(connection: C): Promise<ServerRole>;
  close(connection: C): Promise<void>;
  /**
   * Optional: checked on every fresh connection, whatever the target (`any` included), before
   * the role; throwing rejects the host like a failed connect (a Galera node that is not
   * `Synced`, say).
   */
  healthCheck?(connection: C): Promise<void>;
  /** The adapter's classifier: when every host fails with the same non-connection error (a wrong password), that error is thrown as is. */
  classifyError?(error: unknown): ErrorClassification | undefined;
  /** Default {@link DEFAULT_HOST_RECHECK_MS}. */
  readonly recheckMs?: number;
  /** For tests: the clock. */
  readonly now?: () => number;
}

interface Attempt {
  readonly host: HostAddress;
  readonly reason: string;
  readonly error?: unknown;
}

/**
 * Opens connections over a list of hosts, libpq style: tries them in order, checks each one's
 * role against `target_session_attrs`, keeps the first that fits and closes the others. A host
 * that failed to connect or had the wrong role is remembered for `recheckMs` and tried after the
 * others until then (never skipped: with nothing else left it is still tried), so after a
 * failover new connections go straight to the new primary instead of waiting on the dead one.
 * When no host fits, the error is a `ConnectionError` naming every host and why it was passed
 * over (no password), with the last driver error as `cause`. Shared by every adapter (Postgres
 * failover, MariaDB Galera).
 *
 * @example
 * ```ts
 * const connector = new MultiHostConnector({
 *   dialect: 'postgres',
 *   hosts: [{ host: 'db1', port: 5432 }, { host: 'db2', port: 5432 }],
 *   target: 'read-write',
 *   open: (host) => PostgresConnection.open({ ...clientConfig, ...host }),
 *   role: (connection) => connection.role(),
 *   close: (connection) => connection.close(),
 * })
 * const connection = await connector.connect()
 * ```
 */
export class MultiHostConnector<C> {
  readonly #options: MultiHostOptions<C>;
  /** Host key -> time until which it goes last. */
  readonly #failedUntil = new Map<string, number>();

  constructor(options: MultiHostOptions<C>) {
    if (options.hosts.length === 0) throw new TypeError('MultiHostConnector: hosts must not be empty');
    this.#options = options;
  }

  /** The hosts in the order the next connect tries them: healthy ones first, each group in the given order. */
  order(): readonly HostAddress[] {
    const now = this.#now();
    const healthy: HostAddress[] = [];
    const failed: HostAddress[] = [];
    for (const host of this.#options.hosts) {
      const until = this.#failedUntil.get(hostKey(host));
      (until !== undefined && until > now ? failed : healthy).push(host);
    }
    return [...healthy, ...failed];
  }

  /** Opens a connection to the first host (in {@link order}) whose role fits the target. */
  async connect(): Promise<C> {
    const { target } = this.#options;
    const attempts: Attempt[] = [];
    // prefer-standby: a primary that answered is kept as the fallback while standbys are looked for.
    let fallback: { host: HostAddress; connection: C } | undefined;
    for (const host of this.order()) {
      let connection: C;
      try {
        connection = await this.#options.open(host);
      } catch (error) {
        this.#markFailed(host);
        attempts.push({ host, reason: describeError(error), error });
        continue;
      }
      let role: ServerRole | undefined;
      if (target !== 'any' || this.#options.healthCheck !== undefined) {
        try {
          await this.#options.healthCheck?.(connection);
          if (target !== 'any') role = await this.#options.role(connection);
        } catch (error) {
          await this.#closeQuietly(connection);
          this.#markFailed(host);
          attempts.push({ host, reason: `check failed: ${describeError(error)}`, error });
          continue;
        }
      }
      const mismatch = role === undefined ? undefined : roleMismatch(target, role);
      if (mismatch === undefined) {
        this.#failedUntil.delete(hostKey(host));
        if (fallback !== undefined) await this.#closeQuietly(fallback.connection);
        return connection;
      }
      this.#markFailed(host);
      attempts.push({ host, reason: mismatch });
      if (target === 'prefer-standby' && fallback === undefined) fallback = { host, connection };
      else await this.#closeQuietly(connection);
    }
    if (fallback !== undefined) {
      this.#failedUntil.delete(hostKey(fallback.host));
      return fallback.connection;
    }
    throw this.#noHostError(attempts);
  }

  #noHostError(attempts: readonly Attempt[]): unknown {
    const { classifyError, dialect, target } = this.#options;
    const errors = attempts.map((attempt) => attempt.error);
    // Every host refused the same way (a wrong password, a missing database): that is the error to show.
    if (classifyError !== undefined && errors.every((error) => error !== undefined)) {
      const codes = new Set(errors.map((error) => classifyError(error)?.code));
      const [code] = codes;
      if (codes.size === 1 && code !== undefined && code !== 'CONNECTION') return errors.at(-1);
    }
    const lines = attempts.map((attempt) => `${formatHost(attempt.host)} (${attempt.reason})`).join('; ');
    const cause = errors.findLast((error) => error !== undefined);
    return new ConnectionError(
      `No host of the ${dialect} host list fits target_session_attrs=${target}: ${lines}. Check that the servers are up and that one of them has the wanted role (after a failover, that the standby was promoted).`,
      { dialect, cause },
    );
  }

  #markFailed(host: HostAddress): void {
    this.#failedUntil.set(hostKey(host), this.#now() + (this.#options.recheckMs ?? DEFAULT_HOST_RECHECK_MS));
  }

  async #closeQuietly(connection: C): Promise<void> {
    try {
      await this.#options.close(connection);
    } catch {
      // The connection is being discarded; a failed goodbye changes nothing.
    }
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }
}

/** Why a server with `role` does not fit `target`, or undefined when it does. */
function roleMismatch(target: TargetSessionAttrs, role: ServerRole): string | undefined {
  switch (target) {
    case 'any':
      return undefined;
    case 'read-write':
      return role.readOnly ? 'read-only' : undefined;
    case 'read-only':
      return role.readOnly ? undefined : 'accepts writes';
    case 'primary':
      return role.standby ? 'a standby' : undefined;
    case 'standby':
    case 'prefer-standby':
      return role.standby ? undefined : 'not a standby';
  }
}

function hostKey(host: HostAddress): string {
  return `${host.host}\u0000${host.port ?? ''}`;
}

/**
 * `host:port`, IPv6 in brackets, for messages.
 *
 * @example
 * ```ts
 * formatHost({ host: '::1', port: 5432 }) // '[::1]:5432'
 * ```
 */
export function formatHost(host: HostAddress): string {
  const name = host.host.includes(':') ? `[${host.host}]` : host.host;
  return host.port === undefined ? name : `${name}:${host.port}`;
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactPassword(message || (error as { code?: string })?.code || 'unknown error');
}
