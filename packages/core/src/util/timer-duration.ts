/**
 * The longest delay `setTimeout` honours (2^31−1 ms, about 24.8 days). A longer one fires after
 * 1 ms instead, so every duration option is refused above it rather than silently shortened.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Whether `value` is a duration core can wait for: a finite number of milliseconds from 0 to
 * {@link MAX_TIMER_MS}.
 *
 * @example
 * ```ts
 * isTimerDuration(30_000)  // true
 * isTimerDuration(2 ** 31) // false: setTimeout would fire after 1 ms
 * ```
 */
export function isTimerDuration(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_TIMER_MS;
}

/** What a valid duration is, for messages. */
export const TIMER_DURATION_RULE = `a finite number of milliseconds from 0 to ${MAX_TIMER_MS} (2^31-1)`;
