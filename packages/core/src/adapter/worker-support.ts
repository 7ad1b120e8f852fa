import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { hideSecrets } from '../errors/redact.js';
import type { AdapterCapabilities, WorkerSpec } from './adapter.js';
import { isPlainObject } from './config-checks.js';

/**
 * Whether `value` survives `structuredClone` unchanged in meaning: primitives, arrays, plain
 * objects and byte arrays only. Functions fail to clone, and class instances would arrive
 * without their methods, so both are refused.
 *
 * @example
 * ```ts
 * isPlainData({ host: 'db', ssl: { ca: Buffer.from('...') } })         // true
 * isPlainData({ driverOptions: { types: { getTypeParser() {} } } }) // false
 * ```
 */
export function isPlainData(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint') return true;
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.every(isPlainData);
  if (isPlainObject(value)) return Object.values(value).every(isPlainData);
  return false;
}

/** What an adapter whose sync scope runs through core's worker bridge declares about it. */
export interface WorkerBridgeSupport {
  /** The adapter's capabilities, with `sync: false` when the input cannot reach a worker. */
  readonly capabilities: AdapterCapabilities;
  /** Present only when the worker can rebuild the adapter. */
  readonly workerSpec?: WorkerSpec;
}

const resolvedModules = new Map<string, string>();

/**
 * The `file:` URL of package `name` as seen from `from` (a module URL, usually the adapter's
 * own `import.meta.url`, where `name` is the adapter's own package name: Node resolves a
 * package's own name from inside it). `name` unchanged when it cannot be resolved from
 * there (a bundled application): the worker then imports it by name.
 *
 * @example
 * ```ts
 * resolveWorkerModule('@sessionfactory/pg', import.meta.url)
 * // 'file:///app/node_modules/@sessionfactory/pg/dist/index.js'
 * ```
 */
export function resolveWorkerModule(name: string, from: string): string {
  const key = `${name}\0${from}`;
  let resolved = resolvedModules.get(key);
  if (resolved === undefined) {
    try {
      resolved = pathToFileURL(createRequire(from).resolve(name)).href;
    } catch {
      resolved = name;
    }
    resolvedModules.set(key, resolved);
  }
  return resolved;
}

/**
 * Decides whether core's worker thread can rebuild an adapter by calling
 * `(await import(module))[exportName](input)` again: only when `input` is plain data (see
 * {@link isPlainData}). Then it returns a `workerSpec` carrying a copy of the input; otherwise
 * no spec and `capabilities.sync: false`, so `syncSession` fails clearly instead of running
 * with a different configuration. Spread the result into the adapter. The spec holds the
 * password (the worker needs it) but never prints it: `console.log(adapter)`,
 * `util.inspect` and `JSON.stringify` show it redacted (see `hideSecrets`).
 *
 * Pass `resolveFrom: import.meta.url` so the worker imports the adapter by its resolved file
 * URL (see {@link resolveWorkerModule}): the worker runs from core's folder, from where a
 * strict install (pnpm) does not show the adapter package.
 *
 * @example
 * ```ts
 * const adapter: Adapter = {
 *   dialect: 'postgres',
 *   ...workerBridgeSupport({ module: '@sessionfactory/pg', resolveFrom: import.meta.url,
 *     exportName: 'postgres', input: urlOrConfig, capabilities: postgresCapabilities }),
 *   // ...
 * }
 * ```
 */
export function workerBridgeSupport(options: {
  readonly module: string;
  /** A module URL to resolve `module` from (the adapter's `import.meta.url`). */
  readonly resolveFrom?: string;
  readonly exportName: string;
  readonly input: unknown;
  readonly capabilities: AdapterCapabilities;
}): WorkerBridgeSupport {
  const { exportName, input, capabilities } = options;
  if (!isPlainData(input)) return { capabilities: { ...capabilities, sync: false } };
  const module =
    options.resolveFrom === undefined ? options.module : resolveWorkerModule(options.module, options.resolveFrom);
  const copy = structuredClone(input);
  const args = hideSecrets([typeof copy === 'object' && copy !== null ? hideSecrets(copy) : copy]);
  return { capabilities, workerSpec: hideSecrets({ module, exportName, args }) };
}
