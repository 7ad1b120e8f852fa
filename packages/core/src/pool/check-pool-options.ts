import { ConfigurationError } from '../errors/error-classes.js';
import { isTimerDuration, TIMER_DURATION_RULE } from '../util/timer-duration.js';
import type { ResolvedPoolOptions } from './pool-types.js';

/**
 * Throws `ConfigurationError` for settings the pool cannot honour (a pool that can never open a
 * connection, or a timeout that would wait forever), naming the option, the value and what is allowed.
 */
export function checkPoolOptions(options: ResolvedPoolOptions): void {
  requireCount('size', options.size);
  requireCount('maxOverflow', options.maxOverflow);
  if (options.size + options.maxOverflow < 1) {
    throw new ConfigurationError(
      'pool.size + pool.maxOverflow must be at least 1, got 0: the pool could never open a connection',
    );
  }
  requireDuration('timeoutMs', options.timeoutMs);
  if (options.recycleMs !== undefined) requireDuration('recycleMs', options.recycleMs);
  if (options.idleTimeoutMs !== undefined) requireDuration('idleTimeoutMs', options.idleTimeoutMs);
  if (options.leakDetectionMs !== undefined) {
    requireDuration('leakDetectionMs', options.leakDetectionMs);
    if (options.leakDetectionMs === 0) {
      throw new ConfigurationError(
        'pool.leakDetectionMs must be above 0, got 0: every checkout would be reported as a leak. Leave the option out to turn leak detection off.',
      );
    }
  }
  if (options.maxWriters !== undefined && (!Number.isInteger(options.maxWriters) || options.maxWriters < 1)) {
    throw new ConfigurationError(`maxWriters must be an integer >= 1, got ${String(options.maxWriters)}`);
  }
}

function requireCount(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigurationError(`pool.${name} must be an integer >= 0, got ${String(value)}`);
  }
}

// Above 2^31-1 ms a timer fires after 1 ms: an idle timeout would close every connection after each use.
function requireDuration(name: string, value: number): void {
  if (!isTimerDuration(value)) {
    throw new ConfigurationError(`pool.${name} must be ${TIMER_DURATION_RULE}, got ${String(value)}`);
  }
}
