import type { AdapterCapabilities, IsolationLevel } from '../adapter/adapter.js';
import { UnsupportedFeatureError } from '../errors/error-classes.js';

/**
 * The level the server will really run for a requested one, per the adapter's declared
 * mapping; a level the adapter does not list is refused rather than silently weakened.
 */
export function resolveIsolation(
  capabilities: AdapterCapabilities,
  requested: IsolationLevel | undefined,
): IsolationLevel | undefined {
  if (requested === undefined) return undefined;
  const effective = capabilities.isolation[requested];
  if (!effective) {
    const known = Object.keys(capabilities.isolation).join(', ');
    throw new UnsupportedFeatureError(
      `Isolation level "${requested}" is not supported by this adapter; it supports: ${known || 'none'}.`,
    );
  }
  return effective;
}
