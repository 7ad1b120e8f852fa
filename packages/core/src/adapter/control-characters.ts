/**
 * The first control character (U+0000–U+001F, U+007F) in `value`, written as `U+0000`, or
 * `undefined` when there is none. Connection settings are sent to servers as NUL-terminated
 * strings (the Postgres startup packet, MySQL's handshake) or spliced into connection strings,
 * so a NUL or newline in one could add fields the user never set.
 *
 * @example
 * ```ts
 * findControlCharacter('app\u0000options') // 'U+0000'
 * findControlCharacter('app')              // undefined
 * ```
 */
export function findControlCharacter(value: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  const match = /[\u0000-\u001f\u007f]/.exec(value);
  if (match === null) return undefined;
  return `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}
