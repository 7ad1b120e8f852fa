/**
 * Whether a value is a promise (any thenable) to wait for. Hot paths call this instead of
 * awaiting whatever they got: a driver or executor that answered synchronously (SQLite, the
 * sync executor) then costs no promise and no resumption. The rules yield only for these; the
 * async driver awaits exactly these; the sync executor refuses a unit of work that returned one.
 */
export function isPending(value: unknown): value is PromiseLike<unknown> {
  return value !== undefined && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
