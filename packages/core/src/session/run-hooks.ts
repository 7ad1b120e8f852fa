import type { EventHub } from '../events/event-hub.js';
import type { SessionHook } from './session-types.js';

/**
 * Runs hooks in registration order, awaiting each. A failing hook never changes the
 * session's outcome: it is reported through the factory's `error` event.
 */
export async function runHooks(
  hooks: readonly SessionHook[],
  phase: 'onCommit' | 'onRollback',
  sessionId: string | undefined,
  hub: EventHub,
): Promise<void> {
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      hub.emit('error', { phase, error, sessionId });
    }
  }
}
