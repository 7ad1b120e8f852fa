import { checkIntegerOption, checkStringOption, isPlainObject, refuseControlCharacters } from './config-checks.js';
import { adapterConfigError, invalidOption } from './config-problem.js';
import { type ConnectionUrl, parseConnectionUrl } from './connection-url.js';
import { describeServer } from './describe-server.js';
import type { HostAddress } from './host-list.js';

/**
 * The options every client/server adapter (Postgres, MySQL, ...) accepts besides a URL. An
 * adapter's config extends it with its own fields:
 * `interface PostgresConfig extends ServerConnectionConfig<TlsOptions, PgDriverOptions> { searchPath?: ... }`.
 * Fields given here override the same part of `url`.
 */
export interface ServerConnectionConfig<Tls extends object = object, DriverOptions extends object = object> {
  /** `scheme://user:password@host:port/database?param=value`; percent-encode special characters. */
  readonly url?: string | undefined;
  /** A host name or IP address. */
  readonly host?: string | undefined;
  /** An integer from 1 to 65535. */
  readonly port?: number | undefined;
  readonly user?: string | undefined;
  /** Never shown: descriptions carry `***` and messages only its type. An empty string means none. */
  readonly password?: string | undefined;
  readonly database?: string | undefined;
  /**
   * `true`: TLS with certificate verification; `false`: none; an object: the driver's TLS options;
   * `'prefer'`: TLS without certificate checks when the server offers it, plaintext when it does
   * not (libpq's `sslmode=prefer`, MySQL's `ssl-mode=PREFERRED`).
   */
  readonly ssl?: boolean | 'prefer' | Tls | undefined;
  /** How long opening one connection may take, in milliseconds. */
  readonly connectTimeoutMs?: number | undefined;
  /** Extra driver options, passed through; options that would bypass the fields above are refused. */
  readonly driverOptions?: DriverOptions | undefined;
}

/** Any adapter config built on {@link ServerConnectionConfig}. */
export type AnyServerConnectionConfig = ServerConnectionConfig<object, object>;

/** The names of an adapter's own options (those not in {@link ServerConnectionConfig}). */
export type AdapterOptionName<Config extends AnyServerConnectionConfig> = Exclude<
  keyof Config,
  keyof ServerConnectionConfig
> &
  string;

/** The shared connection fields after validation, from the URL and the config object merged. */
export interface ServerSettings<Config extends AnyServerConnectionConfig = ServerConnectionConfig> {
  readonly host: string | undefined;
  readonly port: number | undefined;
  /**
   * Every host of a multi-host URL (`h1:5432,h2:5433`) in order, ports filled in (the config's
   * `port`, else the default, for entries without one); `host`/`port` are the first one's.
   * `undefined` for one host, and when the config object's `host` replaces the URL's list.
   */
  readonly hosts?: readonly HostAddress[] | undefined;
  readonly user: string | undefined;
  /** `undefined` when none was given or it was empty. */
  readonly password: string | undefined;
  readonly database: string | undefined;
  readonly ssl: Exclude<Config['ssl'], undefined> | undefined;
  readonly connectTimeoutMs: number | undefined;
}

/** What a server adapter tells {@link resolveServerConfig} about itself: names and policy, no code paths. */
export interface ServerConfigSpec<Config extends AnyServerConnectionConfig> {
  /** Prefixed to every message and set on every `ConfigurationError`: `postgres`, `mysql`. */
  readonly dialect: string;
  /** URL schemes accepted; the first is used in messages and in descriptions built without a URL. */
  readonly schemes: readonly [string, ...string[]];
  /** The adapter's own options (besides the shared ones), in the order messages list them. */
  readonly options?: readonly AdapterOptionName<Config>[];
  /** Query parameters a URL may carry; any other one is a `ConfigurationError`. */
  readonly urlParameters?: readonly string[];
  /**
   * Turns the URL's query parameters (only known ones reach it) into config fields, validating
   * them under their URL names. What it returns overrides the URL's own parts (a `host`
   * parameter, say) and loses to the config object's fields; shared fields are checked again,
   * the adapter's own ones come back in `options` for the adapter to check.
   */
  readonly readUrlParameters?: (params: Readonly<Record<string, string>>) => {
    readonly [K in Exclude<keyof Config, 'url' | 'driverOptions'>]?: unknown;
  };
  /** Used when neither the URL nor the config gives a value; also shown in the description. */
  readonly defaults?: { readonly host?: string; readonly port?: number; readonly connectTimeoutMs?: number };
  /** Target parts that must be given, in the URL or the config (MySQL: `user`). */
  readonly required?: readonly (keyof ServerTarget)[];
  /** The smallest `connectTimeoutMs` accepted (default 0, which usually means "no limit"). */
  readonly minConnectTimeoutMs?: number;
  readonly driverOptions: {
    /** What `driverOptions` must be, for the message: `an object of extra pg.ClientConfig fields`. */
    readonly expected: string;
    /** Driver option names `driverOptions` may not set, each with the option to use instead. */
    readonly reserved?: Readonly<Record<string, string>>;
  };
}

// The helpers below only read names and policy from the spec, whatever the adapter's config type.
type LooseSpec = ServerConfigSpec<any>;

type ServerTarget = Pick<ServerSettings, 'host' | 'port' | 'user' | 'password' | 'database'>;

/** A checked server configuration: the shared fields, the adapter's own raw values, the description. */
export interface ResolvedServerConfig<Config extends AnyServerConnectionConfig> {
  readonly server: ServerSettings<Config>;
  /**
   * The adapter's own options, not yet checked: what `readUrlParameters` gave, overridden by
   * the config object's fields. The adapter validates them (it knows what they mean).
   */
  readonly options: { readonly [K in AdapterOptionName<Config>]?: unknown };
  /** A plain object without reserved keys, or `undefined`. */
  readonly driverOptions: Exclude<Config['driverOptions'], undefined> | undefined;
  /**
   * Where the adapter connects, password as `***`: the URL as given (redacted) unless config
   * fields change its host, port, user, password or database; then built by `describeServer`.
   */
  readonly description: string;
}

const TARGET_KEYS = ['host', 'port', 'user', 'password', 'database'] as const;
const KEYS_BEFORE_OWN = ['url', ...TARGET_KEYS, 'ssl'] as const;
const KEYS_AFTER_OWN = ['connectTimeoutMs', 'driverOptions'] as const;
// setTimeout's limit: a larger timeout would fire at once.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Validates the input of a server adapter (`postgres(urlOrConfig)`, `mysql(urlOrConfig)`) the same
 * way for every dialect: a URL string or a plain config object with known keys only; the URL's
 * parts and query parameters, with the config object's fields over them; host, port, user,
 * password, database, ssl and connectTimeoutMs type-checked; defaults and required parts applied;
 * `driverOptions` a plain object without reserved keys; no control characters in any string that
 * reaches the server. Every problem is a `ConfigurationError`
 * that names the option, the value (never a password) and what is allowed.
 *
 * @example
 * ```ts
 * const { server, options, description } = resolveServerConfig<PostgresConfig>(
 *   { url: 'postgres://app:secret@db/shop?application_name=api', port: 6432 },
 *   {
 *     dialect: 'postgres',
 *     schemes: ['postgres', 'postgresql'],
 *     options: ['applicationName'],
 *     urlParameters: ['application_name'],
 *     readUrlParameters: (params) => ({ applicationName: params.application_name }),
 *     driverOptions: { expected: 'an object of extra pg.ClientConfig fields' },
 *   },
 * )
 * server.port             // 6432
 * options.applicationName // 'api' (unchecked: the adapter checks its own options)
 * description             // 'postgres://app:***@db:6432/shop'
 * ```
 */
export function resolveServerConfig<Config extends AnyServerConnectionConfig>(
  input: unknown,
  spec: ServerConfigSpec<Config>,
): ResolvedServerConfig<Config> {
  const config = checkShape(input, spec);
  const url = config.url === undefined ? undefined : parseConnectionUrl(config.url as string, spec.schemes);
  const merged: Record<string, unknown> = {
    ...(url === undefined ? {} : readUrl(url, spec)),
    ...definedFields(config),
  };
  const scheme = url?.scheme ?? spec.schemes[0];
  const server = withHostList(checkServerSettings(merged, spec, scheme), url, config, spec);
  const options = Object.fromEntries((spec.options ?? []).map((key) => [key, merged[key]]));
  const driverOptions = checkDriverOptions(config.driverOptions, spec);
  const overridesUrl = TARGET_KEYS.some((key) => config[key] !== undefined);
  const description = url !== undefined && !overridesUrl ? url.redacted : describeServer({ scheme, ...server });
  // The checks above establish what the types claim: ssl and driverOptions are plain data of the adapter's shape.
  return { server, options, driverOptions, description } as ResolvedServerConfig<Config>;
}

// A config `host` replaces the URL's whole list (one host); a config `port` applies to every listed host.
function withHostList(
  server: ServerSettings,
  url: ConnectionUrl | undefined,
  config: Record<string, unknown>,
  spec: LooseSpec,
): ServerSettings {
  if (url?.hosts === undefined || config.host !== undefined) return server;
  const port = config.port as number | undefined;
  const hosts = url.hosts.map(({ host, port: own }) => ({ host, port: port ?? own ?? spec.defaults?.port }));
  return { ...server, host: hosts[0]?.host, port: hosts[0]?.port, hosts };
}

function checkShape(input: unknown, spec: LooseSpec): Record<string, unknown> {
  const { dialect, schemes } = spec;
  if (typeof input === 'string') return { url: input };
  if (!isPlainObject(input)) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
    throw adapterConfigError(dialect, `expected a ${schemes[0]}:// URL or a config object, got ${got}`);
  }
  const known: readonly string[] = [...KEYS_BEFORE_OWN, ...(spec.options ?? []), ...KEYS_AFTER_OWN];
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      throw adapterConfigError(dialect, `unknown option "${key}"; known options: ${known.join(', ')}`);
    }
  }
  if (input.url !== undefined && (typeof input.url !== 'string' || input.url === '')) {
    throw invalidOption(dialect, 'url', input.url, `a non-empty string such as ${urlExample(schemes[0])}`);
  }
  return input;
}

function readUrl(url: ConnectionUrl, spec: LooseSpec): Record<string, unknown> {
  const known = spec.urlParameters ?? [];
  for (const name of Object.keys(url.params)) {
    if (!known.includes(name)) {
      const allowed = known.length === 0 ? 'this adapter takes none' : `known parameters: ${known.join(', ')}`;
      throw adapterConfigError(spec.dialect, `unknown URL parameter "${name}" in ${url.redacted}; ${allowed}`);
    }
  }
  const { host, port, user, password, database } = url;
  return { host, port, user, password, database, ...spec.readUrlParameters?.(url.params) };
}

function definedFields(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).filter(([key, value]) => value !== undefined && key !== 'url' && key !== 'driverOptions'),
  );
}

function checkServerSettings(merged: Record<string, unknown>, spec: LooseSpec, scheme: string): ServerSettings {
  const { dialect, defaults } = spec;
  const settings: ServerSettings = {
    host: checkStringOption(dialect, 'host', merged.host) ?? defaults?.host,
    port: checkIntegerOption(dialect, 'port', merged.port, 1, 65535) ?? defaults?.port,
    user: checkStringOption(dialect, 'user', merged.user),
    password: checkStringOption(dialect, 'password', merged.password, { allowEmpty: true }) || undefined,
    database: checkStringOption(dialect, 'database', merged.database),
    ssl: checkSsl(dialect, merged.ssl),
    connectTimeoutMs:
      checkIntegerOption(
        dialect,
        'connectTimeoutMs',
        merged.connectTimeoutMs,
        spec.minConnectTimeoutMs ?? 0,
        MAX_TIMEOUT_MS,
      ) ?? defaults?.connectTimeoutMs,
  };
  for (const part of spec.required ?? []) {
    if (settings[part] === undefined) {
      throw adapterConfigError(dialect, `no ${part} given; set "${part}" or put it in the URL (${urlExample(scheme)})`);
    }
  }
  return settings;
}

function checkSsl(dialect: string, value: unknown): boolean | 'prefer' | object | undefined {
  if (value === undefined || typeof value === 'boolean' || value === 'prefer' || isPlainObject(value)) return value;
  throw invalidOption(dialect, 'ssl', value, "true, false, 'prefer' or an object of TLS options (ca, cert, key, ...)");
}

function checkDriverOptions(value: unknown, spec: LooseSpec): Record<string, unknown> | undefined {
  const { dialect, driverOptions } = spec;
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw invalidOption(dialect, 'driverOptions', value, driverOptions.expected);
  for (const [key, option] of Object.entries(value)) {
    if (typeof option === 'string') refuseControlCharacters(dialect, `driverOptions.${key}`, option);
  }
  for (const [key, replacement] of Object.entries(driverOptions.reserved ?? {})) {
    if (key in value) {
      throw adapterConfigError(
        dialect,
        `invalid option "driverOptions.${key}": not allowed, it would bypass the checked options; use the ${replacement} option instead`,
      );
    }
  }
  return value;
}

function urlExample(scheme: string): string {
  return `${scheme}://user:password@host:port/database`;
}
