import type { QueryEvent } from './event-types.js';

/**
 * Formats a query event for `echo: true`: session, duration, statement, and parameters only
 * when the event carries them (`logParameters: true`).
 */
export function formatQueryEvent(event: QueryEvent): string {
  const where = `${event.sessionId ?? '-'} c${event.connectionId}`;
  const params = event.parameters ? ` ${JSON.stringify(event.parameters, bigintSafe)}` : '';
  const failed = event.error ? ` FAILED ${event.error.code}` : '';
  return `[sessionfactory] ${where} ${event.durationMs.toFixed(1)}ms ${event.sql}${params}${failed}`;
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
