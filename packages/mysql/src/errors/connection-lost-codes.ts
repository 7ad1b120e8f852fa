import { SOCKET_ERROR_CODES } from '@sessionfactory/core/adapter';

/**
 * Codes on `error.code` that mean the connection is gone: Node's socket codes (core's
 * `SOCKET_ERROR_CODES`) and mysql2's own client codes, which come without a server error number.
 */
export const CONNECTION_LOST_CODES: ReadonlySet<string> = new Set([
  ...SOCKET_ERROR_CODES,
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_PACKETS_OUT_OF_ORDER',
  'PROTOCOL_ERROR',
]);
