/** Where a violation happened, as far as the server's message tells. */
export interface MysqlErrorFields {
  readonly constraint?: string | undefined;
  readonly table?: string | undefined;
  readonly column?: string | undefined;
}

type FieldParser = (message: string) => MysqlErrorFields;

/**
 * Reads constraint, table and column out of the server's message for the errors that name
 * them. MySQL and MariaDB put these only in the text (there are no structured fields as in
 * Postgres), so each pattern matches the exact message of one error number.
 *
 * @example
 * ```ts
 * mysqlErrorFields(1048, "Column 'name' cannot be null") // { column: 'name' }
 * ```
 */
export function mysqlErrorFields(errno: number, message: string): MysqlErrorFields {
  return FIELD_PARSERS.get(errno)?.(message) ?? {};
}

// MariaDB: `for key 'uq_email'`; MySQL 8 prefixes the table: `for key 'account.uq_email'`.
const duplicateKey: FieldParser = (message) => {
  const key = /for key '(.+)'$/.exec(message)?.[1];
  if (key === undefined) return {};
  const dot = key.indexOf('.');
  return dot < 0 ? { constraint: key } : { table: key.slice(0, dot), constraint: key.slice(dot + 1) };
};

// `(`db`.`child`, CONSTRAINT `fk` FOREIGN KEY (`col`) REFERENCES `parent` (`id`))`; a
// composite key names several columns, and then no single column is reported.
const foreignKey: FieldParser = (message) => {
  const match = /\(`[^`]+`\.`([^`]+)`, CONSTRAINT `([^`]+)` FOREIGN KEY \(([^)]*)\) REFERENCES/.exec(message);
  if (match === null) return {};
  const columns = (match[3] ?? '').split(',').map((c) => c.trim().replace(/^`|`$/g, ''));
  return { table: match[1], constraint: match[2], column: columns.length === 1 ? columns[0] : undefined };
};

const quotedColumn =
  (pattern: RegExp): FieldParser =>
  (message) => {
    const column = pattern.exec(message)?.[1];
    return column === undefined ? {} : { column };
  };

const mysqlCheck: FieldParser = (message) => {
  const constraint = /^Check constraint '(.+)' is violated/.exec(message)?.[1];
  return constraint === undefined ? {} : { constraint };
};

// MariaDB names a column-level CHECK after its column and reports it as `table.column`.
const mariadbCheck: FieldParser = (message) => {
  const match = /^CONSTRAINT `(.+)` failed for `[^`]+`\.`([^`]+)`/.exec(message);
  if (match === null) return {};
  const [, name = '', table = ''] = match;
  if (name.startsWith(`${table}.`)) {
    const column = name.slice(table.length + 1);
    return { constraint: column, table, column };
  }
  return { constraint: name, table };
};

// `Table 'shop.account' doesn't exist`: the schema comes first.
const missingTable: FieldParser = (message) => {
  const name = /^Table '(.+)' doesn't exist/.exec(message)?.[1];
  if (name === undefined) return {};
  const dot = name.indexOf('.');
  return { table: dot < 0 ? name : name.slice(dot + 1) };
};

// `Unknown column 'a.nope' in 'field list'`: the prefix is a table or alias, not reported.
const missingColumn: FieldParser = (message) => {
  const name = /^Unknown column '(.+?)' in /.exec(message)?.[1];
  if (name === undefined) return {};
  return { column: name.slice(name.lastIndexOf('.') + 1) };
};

const FIELD_PARSERS: ReadonlyMap<number, FieldParser> = new Map([
  [1062, duplicateKey],
  [1451, foreignKey],
  [1452, foreignKey],
  [1048, quotedColumn(/^Column '(.+)' cannot be null/)],
  [1364, quotedColumn(/^Field '(.+)' doesn't have a default value/)],
  [3819, mysqlCheck],
  [4025, mariadbCheck],
  [1146, missingTable],
  [1054, missingColumn],
]);
