/**
 * Replaces the password in every URL-looking substring (`scheme://user:secret@host`) and in
 * `password=...` pairs, so that no message or log line ever carries a credential.
 *
 * @example
 * ```ts
 * redactPassword('postgres://app:s3cret@db/app') // 'postgres://app:***@db/app'
 * ```
 */
export function redactPassword(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^/\s]*@/gi, '$1:***@')
    .replace(/(password\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s;&,]+)/gi, '$1***');
}
