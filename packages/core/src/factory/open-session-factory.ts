import type { Adapter } from '../adapter/adapter.js';
import { ConfigurationError } from '../errors/error-classes.js';
import { redactPassword } from '../errors/redact.js';
import { type AdapterModule, findAdapterExport } from '../util/adapter-modules.js';
import { importPackage } from '../util/import-package.js';
import { createSessionFactory } from './create-session-factory.js';
import type { FactoryOptions } from './factory-options.js';
import type { SessionFactory } from './session-factory.js';

/** URL scheme to the adapter package and its factory export. */
const ADAPTERS: Readonly<Record<string, { readonly pkg: string; readonly exportName: string }>> = {
  postgres: { pkg: '@sessionfactory/pg', exportName: 'postgres' },
  postgresql: { pkg: '@sessionfactory/pg', exportName: 'postgres' },
  mysql: { pkg: '@sessionfactory/mysql', exportName: 'mysql' },
  mariadb: { pkg: '@sessionfactory/mysql', exportName: 'mysql' },
  sqlite: { pkg: '@sessionfactory/sqlite', exportName: 'sqlite' },
  file: { pkg: '@sessionfactory/sqlite', exportName: 'sqlite' },
};

/** `FactoryOptions`, plus what only `openSessionFactory` needs. */
export interface OpenSessionFactoryOptions extends FactoryOptions {
  /**
   * Adapter modules to use instead of importing the adapter package by name, which a bundled
   * application cannot do: `import * as pg from '@sessionfactory/pg'`, then
   * `{ adapterModules: [pg] }`. The URL's scheme still picks which one.
   */
  readonly adapterModules?: readonly AdapterModule[];
}

/**
 * Opens a factory from a URL (or `DATABASE_URL`): picks the adapter package by scheme,
 * connects and pings once, then resolves. Swapping databases is swapping the URL.
 *
 * @example
 * ```ts
 * const sf = await openSessionFactory<DB>(process.env.DATABASE_URL || 'sqlite:ledger.db')
 * // postgres://... -> @sessionfactory/pg, mysql://... -> @sessionfactory/mysql
 *
 * // in a bundled application, hand the adapter modules over:
 * import * as pg from '@sessionfactory/pg'
 * const sf = await openSessionFactory<DB>(url, { adapterModules: [pg] })
 * ```
 */
export async function openSessionFactory<DB>(
  url?: string,
  options?: OpenSessionFactoryOptions,
): Promise<SessionFactory<DB>> {
  if (url !== undefined && typeof url !== 'string') {
    throw new ConfigurationError(
      `openSessionFactory(url): url must be a string such as postgres://user@host/db, mysql://user@host/db or sqlite:app.db, got ${describeKind(url)}. To pass an adapter object, use createSessionFactory(adapter).`,
    );
  }
  const { adapterModules = [], ...factoryOptions } = options ?? {};
  // An empty string (`DATABASE_URL=` in a shell or .env file) counts as unset.
  const target = url || process.env.DATABASE_URL || undefined;
  if (target === undefined) {
    throw new ConfigurationError(
      'No database URL: pass one to openSessionFactory(url) or set DATABASE_URL (e.g. postgres://user@host/db, mysql://user@host/db, sqlite:app.db).',
    );
  }
  const scheme = target === ':memory:' ? 'sqlite' : /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1]?.toLowerCase();
  const entry = scheme === undefined ? undefined : ADAPTERS[scheme];
  if (!entry) {
    // Only the scheme is shown: a URL that is not understood cannot be redacted reliably.
    const what = scheme === undefined ? 'no scheme' : `scheme "${scheme}:"`;
    throw new ConfigurationError(
      `Unknown database URL scheme: the URL (not shown, it may contain a password) has ${what}. Known schemes: ${Object.keys(
        ADAPTERS,
      )
        .map((s) => `${s}:`)
        .join(', ')} (or ":memory:").`,
    );
  }
  const makeAdapter = (findAdapterExport(entry.exportName, adapterModules) ??
    (await importAdapterExport(entry.pkg, entry.exportName, scheme as string))) as (url: string) => Adapter;
  const factory = createSessionFactory<DB>(makeAdapter(target), options === undefined ? undefined : factoryOptions);
  try {
    await factory.ping();
  } catch (error) {
    await factory.close({ timeoutMs: 0 });
    throw error;
  }
  return factory;
}

async function importAdapterExport(pkg: string, exportName: string, scheme: string): Promise<unknown> {
  const module = await importPackage(pkg).catch((error: unknown) => {
    throw adapterImportError(scheme, pkg, error);
  });
  const makeAdapter = module[exportName];
  if (typeof makeAdapter !== 'function') {
    throw new ConfigurationError(`${pkg} does not export ${exportName}(); install a matching version.`);
  }
  return makeAdapter;
}

// "Not installed" only when Node could not find the adapter package itself; a missing driver, a
// syntax error or a Node version check inside it is reported as it is.
function adapterImportError(scheme: string, pkg: string, error: unknown): ConfigurationError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_MODULE_NOT_FOUND' && message.includes(`'${pkg}'`)) {
    return new ConfigurationError(
      `The ${scheme}: URL needs the adapter package ${pkg}, which is not installed. Install it: npm i ${pkg} ` +
        `(in a bundled application, pass it: openSessionFactory(url, { adapterModules: [await import('${pkg}')] }))`,
      { cause: error },
    );
  }
  return new ConfigurationError(
    `The ${scheme}: URL needs the adapter package ${pkg}, which is installed but failed to load: ${redactPassword(message)}`,
    { cause: error },
  );
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
