/**
 * Replaces the password in every URL-looking substring (`scheme://user:secret@host`) and in
 * `password=...` pairs, so that no message or log line ever carries a credential. A password may
 * hold any character (`/`, `@`, spaces...) when it was not percent-encoded, so everything from the
 * `:` after the user to the last `@` on that line is replaced: this may hide more than the
 * password, never less.
 *
 * @example
 * ```ts
 * redactPassword('postgres://app:s3cret@db/app')   // 'postgres://app:***@db/app'
 * redactPassword('postgress://u:p/w x@db/app')     // 'postgress://u:***@db/app'
 * redactPassword('host=db password=s3cret user=a') // 'host=db password=*** user=a'
 * ```
 */
export function redactPassword(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^\n]*@/gi, '$1:***@')
    .replace(/(password\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s;&,]+)/gi, '$1***');
}
