/**
 * Options of `sqlite({ ... })`. Every field but `filename` is optional; the defaults are
 * what most applications want from an embedded database.
 */
export interface SqliteConfig {
  /** Path of the database file, `':memory:'`, or a `sqlite:` / `file:` URL. */
  readonly filename: string;
  /** Switch file databases to write-ahead logging. Default true (false for read-only connections). */
  readonly wal?: boolean;
  /** How long a statement waits for another connection's lock before `SQLITE_BUSY`. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** `PRAGMA foreign_keys`. Default true: foreign keys are enforced. */
  readonly foreignKeys?: boolean;
  /** Open the file read-only (it must exist). Default false. */
  readonly readonly?: boolean;
  /** Fail instead of creating the file when it does not exist. Default false. */
  readonly fileMustExist?: boolean;
  /** Extra `PRAGMA name = value` statements run on every new connection, after the ones above. */
  readonly pragmas?: Readonly<Record<string, string | number | boolean>>;
  /** Path of a better-sqlite3 native addon to load instead of the bundled prebuilt one. */
  readonly nativeBinding?: string;
}

/** A validated `SqliteConfig` with every default filled in. */
export interface ResolvedSqliteConfig {
  /** The path handed to SQLite (URLs already turned into paths), or `':memory:'`. */
  readonly filename: string;
  readonly memory: boolean;
  readonly wal: boolean;
  readonly busyTimeoutMs: number;
  readonly foreignKeys: boolean;
  readonly readonly: boolean;
  readonly fileMustExist: boolean;
  /** Ready-to-run `PRAGMA` statements built from `pragmas`. */
  readonly pragmaStatements: readonly string[];
  readonly nativeBinding: string | undefined;
}

/** The option names `SqliteConfig` accepts, in the order messages list them. */
export const SQLITE_CONFIG_KEYS: readonly (keyof SqliteConfig)[] = [
  'filename',
  'wal',
  'busyTimeoutMs',
  'foreignKeys',
  'readonly',
  'fileMustExist',
  'pragmas',
  'nativeBinding',
];

/** Default busy timeout: long enough to ride out another writer's short transaction. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** SQLite's own ceiling for `sqlite3_busy_timeout` (a C int). */
export const MAX_BUSY_TIMEOUT_MS = 2_147_483_647;

/** The filename SQLite reads as a private in-memory database. */
export const MEMORY_FILENAME = ':memory:';
