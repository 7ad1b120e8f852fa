import type { Adapter } from '../adapter/adapter.js';
import { DatabaseError, ERROR_CLASSES } from './error-classes.js';
import { redactPassword } from './redact.js';
import { type SerializedError, SessionFactoryError } from './session-factory-error.js';

/**
 * Turns whatever a driver threw into the typed error the adapter's classifier names,
 * falling back to `DatabaseError`. Typed errors pass through unchanged.
 *
 * @example
 * ```ts
 * const typed = toSessionFactoryError(driverError, adapter)
 * if (typed.retryable) retry()
 * ```
 */
export function toSessionFactoryError(
  error: unknown,
  adapter: Pick<Adapter, 'classifyError' | 'dialect'>,
): SessionFactoryError {
  if (error instanceof SessionFactoryError) return error;
  const classification = safeClassify(adapter, error);
  const originalMessage = redactPassword(classification?.originalMessage ?? messageOf(error));
  const ErrorClass = classification ? ERROR_CLASSES[classification.code] : DatabaseError;
  return new ErrorClass(`${adapter.dialect}: ${originalMessage}`, {
    dialect: adapter.dialect,
    cause: error,
    originalCode: classification?.originalCode ?? codeOf(error),
    originalMessage,
    constraint: classification?.constraint,
    table: classification?.table,
    column: classification?.column,
  });
}

/**
 * Whether the classification says the connection that raised this error is unusable.
 *
 * @example
 * ```ts
 * if (isConnectionLost(error, adapter)) await pool.invalidate(connection, 'connection lost')
 * ```
 */
export function isConnectionLost(error: unknown, adapter: Pick<Adapter, 'classifyError'>): boolean {
  if (error instanceof SessionFactoryError) {
    if (error.code === 'CONNECTION') return true;
    if (error.cause === undefined) return false;
    error = error.cause;
  }
  const c = safeClassify(adapter, error);
  return c?.code === 'CONNECTION' || c?.connectionLost === true;
}

/**
 * Rebuilds a typed error from its plain-object form (the worker bridge uses this so errors
 * cross the thread boundary as the same classes with the same fields).
 *
 * @example
 * ```ts
 * const again = errorFromJSON(JSON.parse(JSON.stringify(error)))
 * again instanceof UniqueViolationError // true
 * ```
 */
export function errorFromJSON(data: SerializedError): SessionFactoryError {
  const ErrorClass = ERROR_CLASSES[data.code] ?? DatabaseError;
  return new ErrorClass(data.message, data);
}

function safeClassify(adapter: Pick<Adapter, 'classifyError'>, error: unknown) {
  try {
    return adapter.classifyError(error);
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function codeOf(error: unknown): string | number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' || typeof code === 'number' ? code : undefined;
}
