import { Buffer } from 'node:buffer';

/**
 * Structured clone turns a `Buffer` into a plain `Uint8Array`. This turns such values back
 * into `Buffer`s (sharing memory, no copy) so results and parameters that crossed the worker
 * boundary look the same as on a native connection. Other values pass through.
 */
export function asBuffer(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

/**
 * Applies `asBuffer` to every element of an array (query parameters).
 */
export function buffersInArray(values: readonly unknown[]): unknown[] {
  return values.map(asBuffer);
}

/**
 * Applies `asBuffer` to every own value of every row object, in place (result rows).
 */
export function buffersInRows<T>(rows: T[]): T[] {
  for (const row of rows) {
    if (row === null || typeof row !== 'object') continue;
    const record = row as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const value = record[key];
      if (value instanceof Uint8Array) record[key] = asBuffer(value);
    }
  }
  return rows;
}
