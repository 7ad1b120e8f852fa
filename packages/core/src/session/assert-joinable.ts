import type { AdapterCapabilities, BeginOptions } from '../adapter/adapter.js';
import { PropagationError } from '../errors/error-classes.js';
import { resolveIsolation } from './resolve-isolation.js';
import type { SessionOptions } from './session-options.js';

/**
 * A scope that joins (or nests in) a transaction cannot change it: an explicit option that
 * differs from the transaction, or that only a new transaction can honour, throws instead of
 * being ignored. Async and sync scopes share this rule.
 */
export function assertJoinable(
  begin: BeginOptions,
  sessionId: string,
  options: Pick<SessionOptions, 'isolation' | 'readOnly' | 'timeoutMs' | 'signal' | 'retry'>,
  propagation: string,
  capabilities: AdapterCapabilities,
): void {
  const conflict = (what: string) =>
    new PropagationError(
      `Propagation "${propagation}" joins session ${sessionId}, but the scope asks for ${what}. Use propagation "requiresNew" for a separate transaction, or drop the option.`,
    );
  if (options.isolation !== undefined) {
    const wanted = resolveIsolation(capabilities, options.isolation);
    if (wanted !== begin.isolation) {
      throw conflict(`isolation "${options.isolation}" while it runs "${begin.isolation ?? 'the server default'}"`);
    }
  }
  if (options.readOnly !== undefined && options.readOnly !== begin.readOnly) {
    throw conflict(`readOnly: ${options.readOnly} while it is ${begin.readOnly ? 'read-only' : 'read-write'}`);
  }
  if (options.timeoutMs !== undefined || options.signal !== undefined) {
    throw conflict('its own timeoutMs/signal (they apply to a new transaction only)');
  }
  if (options.retry !== undefined) throw conflict('retry (only a scope that starts a transaction can be retried)');
}
