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

/**
 * A copy of `value` safe to print: every string goes through {@link redactPassword}, and the value
 * of every key that names a password or secret (`password`, `sslpassword`, `passphrase`, `secret`,
 * `key`) becomes `***`, at any depth. Functions and class instances are shown by kind only.
 *
 * @example
 * ```ts
 * redactSecrets({ url: 'mysql://app:pw@db/shop', password: 'pw', port: 3306 })
 * // { url: 'mysql://app:***@db/shop', password: '***', port: 3306 }
 * ```
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactPassword(value);
  if (typeof value !== 'object' || value === null) return typeof value === 'function' ? '[function]' : value;
  if (depth > 8) return '[...]';
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name}]`;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, SECRET_KEY.test(key) ? '***' : redactSecrets(item, depth + 1)]),
  );
}

const SECRET_KEY = /password|passphrase|secret|^key$|token/i;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Makes `target` print without its secrets: `util.inspect`/`console.log` and `JSON.stringify` show
 * {@link redactSecrets} of it, while the object itself keeps the real values. The hooks are
 * non-enumerable, so `structuredClone` and `postMessage` still copy the real, plain data (the sync
 * worker needs it). Returns `target`.
 *
 * @example
 * ```ts
 * const spec = hideSecrets({ module: '@sessionfactory/pg', exportName: 'postgres', args: ['postgres://app:pw@db/shop'] })
 * JSON.stringify(spec) // '{"module":"@sessionfactory/pg","exportName":"postgres","args":["postgres://app:***@db/shop"]}'
 * structuredClone(spec).args[0] // 'postgres://app:pw@db/shop'
 * ```
 */
export function hideSecrets<T extends object>(target: T): T {
  Object.defineProperty(target, 'toJSON', { value: () => redactSecrets(target), enumerable: false });
  Object.defineProperty(target, INSPECT, {
    value: (_depth: number, options: object, inspect: (value: unknown, options: object) => string) =>
      inspect(redactSecrets(target), options),
    enumerable: false,
  });
  return target;
}
