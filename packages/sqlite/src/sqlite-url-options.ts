import { invalidOption, unknownOption } from './invalid-option.js';
import type { SqliteConfig } from './sqlite-config.js';

type UrlOptions = {
  -readonly [K in 'wal' | 'busyTimeoutMs' | 'foreignKeys' | 'readonly' | 'fileMustExist']?: SqliteConfig[K];
};

const BOOLEAN_PARAMS = ['wal', 'foreignKeys', 'readonly', 'fileMustExist'] as const;
const KNOWN_PARAMS = ['mode', 'busyTimeoutMs', ...BOOLEAN_PARAMS];

/**
 * Reads the options a URL may carry in its query string, so `DATABASE_URL` alone can
 * configure the adapter: `wal`, `foreignKeys`, `readonly`, `fileMustExist` (true/false/1/0),
 * `busyTimeoutMs`, and SQLite's own `mode` (`ro`, `rw`, `rwc`).
 *
 * @example
 * ```ts
 * sqliteUrlOptions({ mode: 'ro', busyTimeoutMs: '100' }) // { readonly: true, busyTimeoutMs: 100 }
 * ```
 */
export function sqliteUrlOptions(params: Readonly<Record<string, string>>): Partial<SqliteConfig> {
  const options: UrlOptions = {};
  for (const [name, value] of Object.entries(params)) {
    if (name === 'mode') Object.assign(options, modeOptions(value));
    else if (name === 'busyTimeoutMs') options.busyTimeoutMs = integerParam(name, value);
    else if (isBooleanParam(name)) options[name] = booleanParam(name, value);
    else throw unknownOption('URL parameter', name, KNOWN_PARAMS);
  }
  return options;
}

function isBooleanParam(name: string): name is (typeof BOOLEAN_PARAMS)[number] {
  return (BOOLEAN_PARAMS as readonly string[]).includes(name);
}

function modeOptions(value: string): UrlOptions {
  if (value === 'ro') return { readonly: true };
  if (value === 'rw') return { fileMustExist: true };
  if (value === 'rwc') return {};
  throw invalidOption('URL parameter mode', value, 'ro, rw or rwc');
}

function booleanParam(name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalidOption(`URL parameter ${name}`, value, 'true, false, 1 or 0');
}

function integerParam(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw invalidOption(`URL parameter ${name}`, value, 'a non-negative integer');
  return Number(value);
}
