const KEY_DETAIL = /^Key \((.+?)\)=\(/;
const PLAIN_IDENTIFIER = /^[\p{L}_][\p{L}\p{N}_$]*$/u;
const QUOTED_IDENTIFIER = /^"((?:[^"]|"")+)"$/;

/**
 * Reads the column from a Postgres key `detail` such as `Key (email)=(a@b.c) already exists.`
 * Only a single plain or quoted column is returned; a composite key or an expression index
 * gives `undefined` rather than a guess.
 *
 * @example
 * ```ts
 * keyColumnFromDetail('Key (email)=(a@b.c) already exists.')  // 'email'
 * keyColumnFromDetail('Key ("Email")=(a@b.c) already exists.') // 'Email'
 * keyColumnFromDetail('Key (a, b)=(1, 2) already exists.')     // undefined
 * ```
 */
export function keyColumnFromDetail(detail: unknown): string | undefined {
  if (typeof detail !== 'string') return undefined;
  const key = KEY_DETAIL.exec(detail)?.[1];
  if (key === undefined) return undefined;
  if (PLAIN_IDENTIFIER.test(key)) return key;
  const quoted = QUOTED_IDENTIFIER.exec(key)?.[1];
  return quoted?.replaceAll('""', '"');
}
