import {
  type ErrorClassification,
  isConnectionExceptionState,
  isTlsHandshakeError,
  SOCKET_ERROR_CODES,
} from '@sessionfactory/core/adapter';
import { CommitRolledBackError } from './commit-rolled-back-error.js';
import { keyColumnFromDetail } from './key-column-from-detail.js';
import { CONNECTION_LOST_MESSAGES, POOLER_LOGIN_FAILURES, SQLSTATE_CODES } from './sqlstate-codes.js';

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The fields pg's `DatabaseError` (and Node's socket errors) carry. */
interface DriverErrorFields {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly detail?: unknown;
  readonly constraint?: unknown;
  readonly table?: unknown;
  readonly column?: unknown;
  readonly errors?: unknown;
}

/**
 * Says what a `pg` error is: SQLSTATE first (`error.code`), then Node socket and TLS codes, then
 * pg's own message text (a server without TLS, a connect timeout). Returns `undefined` for values that are not database errors, so
 * core leaves them alone.
 *
 * @example
 * ```ts
 * classifyPostgresError({ code: '23505', constraint: 'users_email_key', table: 'users',
 *   detail: 'Key (email)=(a@b.c) already exists.', message: 'duplicate key value' })
 * // { code: 'UNIQUE_VIOLATION', constraint: 'users_email_key', table: 'users', column: 'email', ... }
 * classifyPostgresError(new TypeError('x')) // undefined
 * ```
 */
export function classifyPostgresError(error: unknown): ErrorClassification | undefined {
  if (error instanceof CommitRolledBackError) {
    return { code: 'UNEXPECTED_ROLLBACK', originalCode: error.code, originalMessage: error.message };
  }
  if (typeof error !== 'object' || error === null) return undefined;
  const fields = error as DriverErrorFields;
  const code = stringOrUndefined(fields.code);
  const message = stringOrUndefined(fields.message);
  const original = { originalCode: code, originalMessage: message };

  if (code !== undefined && SQLSTATE.test(code) && !SOCKET_ERROR_CODES.has(code)) {
    const relayed = code === '08P01' ? POOLER_LOGIN_FAILURES.find((f) => f.pattern.test(message ?? '')) : undefined;
    const typed =
      relayed?.code ?? SQLSTATE_CODES[code] ?? (isConnectionExceptionState(code) ? 'CONNECTION' : 'DATABASE');
    return {
      code: typed,
      ...original,
      ...definedFields(fields, code),
      ...(typed === 'CONNECTION' ? { connectionLost: true } : {}),
    };
  }
  if ((code !== undefined && SOCKET_ERROR_CODES.has(code)) || isTlsHandshakeError(error)) {
    return { code: 'CONNECTION', ...original, connectionLost: true };
  }
  if (message !== undefined && CONNECTION_LOST_MESSAGES.some((text) => message.includes(text))) {
    return { code: 'CONNECTION', ...original, connectionLost: true };
  }
  // pg's client-side `query_timeout`: the statement may still run on the server, so the connection is not reusable.
  if (message === 'Query read timeout') {
    return { code: 'STATEMENT_TIMEOUT', ...original, connectionLost: true };
  }
  // Node reports a failed dual-stack connect (`localhost` -> ::1 and 127.0.0.1) as an AggregateError.
  if (Array.isArray(fields.errors)) {
    const inner = fields.errors.map(classifyPostgresError).find((c) => c !== undefined);
    if (inner !== undefined) return { ...inner, ...definedOriginal(original) };
  }
  return undefined;
}

function definedFields(fields: DriverErrorFields, code: string) {
  const column =
    stringOrUndefined(fields.column) ??
    (code === '23505' || isMissingParentKey(code, fields.detail) ? keyColumnFromDetail(fields.detail) : undefined);
  return {
    constraint: stringOrUndefined(fields.constraint),
    table: stringOrUndefined(fields.table),
    column,
  };
}

// Only an insert/update of the child names the child's own column; "is still referenced" names the parent's.
function isMissingParentKey(code: string, detail: unknown): boolean {
  return code === '23503' && typeof detail === 'string' && detail.includes('is not present in table');
}

function definedOriginal(original: { originalCode: string | undefined; originalMessage: string | undefined }) {
  return Object.fromEntries(Object.entries(original).filter(([, v]) => v !== undefined));
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
