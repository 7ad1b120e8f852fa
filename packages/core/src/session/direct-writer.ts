import {
  type CompiledQuery,
  DefaultQueryCompiler,
  MysqlQueryCompiler,
  type QueryCompiler,
  SqliteQueryCompiler,
} from 'kysely';
import type { Tunable } from './tuned-compiler.js';

/** The methods of Kysely's `DefaultQueryCompiler` whose output `DirectWriter` reproduces. */
const REPRODUCED_METHODS = [
  'compileQuery',
  'getSql',
  'append',
  'appendValue',
  'appendImmediateValue',
  'addParameter',
  'compileList',
  'compileUnwrappedIdentifier',
  'visitSelectQuery',
  'visitInsertQuery',
  'visitUpdateQuery',
  'visitDeleteQuery',
  'visitSelection',
  'visitSelectAll',
  'visitReference',
  'visitColumn',
  'visitIdentifier',
  'visitAlias',
  'visitFrom',
  'visitTable',
  'visitSchemableIdentifier',
  'visitWhere',
  'visitBinaryOperation',
  'visitOperator',
  'visitValue',
  'visitValues',
  'visitValueList',
  'visitPrimitiveValueList',
  'visitColumnUpdate',
  'visitReturning',
  'visitRaw',
  'visitAnd',
  'visitOr',
  'visitParens',
  'visitLimit',
  'visitOffset',
] as const;

/**
 * The clauses `DirectWriter` writes, per statement; a statement with any other clause set
 * (joins, CTEs, ordering, conflict handling, ... and any clause a later Kysely adds) is
 * Kysely's to compile.
 */
const CLAUSES: Readonly<Record<string, ReadonlySet<string>>> = {
  SelectQueryNode: new Set(['kind', 'selections', 'from', 'where', 'limit', 'offset']),
  InsertQueryNode: new Set(['kind', 'into', 'columns', 'values', 'returning', 'replace']),
  UpdateQueryNode: new Set(['kind', 'table', 'updates', 'where', 'returning']),
  DeleteQueryNode: new Set(['kind', 'from', 'where', 'returning']),
};

// Kysely's operation nodes as the writer reads them: any node, checked by `kind` before use.
type Node = any;

/**
 * Everyday statements written straight to text in one pass, as Kysely's visitors would write
 * them, without the node stack and the appends to a shared buffer: SELECT (columns, possibly
 * aliased, from tables, WHERE, LIMIT, OFFSET), INSERT ... VALUES, UPDATE ... SET and DELETE
 * (with WHERE and RETURNING), over expressions made of column references, values,
 * comparisons, and/or, parentheses, `in` lists and `sql` fragments. For any node it does not
 * know it answers `undefined`, and Kysely compiles the statement. It is used only when every
 * visitor involved is Kysely's own, so its output is Kysely's byte for byte (the tests compile
 * a corpus both ways, on every dialect).
 */
export class DirectWriter {
  readonly #left: string;
  readonly #right: string;
  readonly #sanitize: (identifier: string) => string;
  /** `$1, $2, ...` (Kysely's default, Postgres) or `?` (SQLite, MySQL). */
  readonly #numbered: boolean;
  #parameters: unknown[] = [];

  /**
   * The writer for `c`, a compiler whose quoting is Kysely's; `undefined` when `c` changes
   * anything the writer reproduces (a visitor, the quote characters, the placeholders).
   */
  static for(c: Tunable): DirectWriter | undefined {
    if (!REPRODUCED_METHODS.every((name) => usesKyselys(c, name, DefaultQueryCompiler))) return undefined;
    const wrappers = [DefaultQueryCompiler, SqliteQueryCompiler, MysqlQueryCompiler];
    if (
      !wrappers.some(
        (type) => usesKyselys(c, 'getLeftIdentifierWrapper', type) && usesKyselys(c, 'getRightIdentifierWrapper', type),
      )
    ) {
      return undefined;
    }
    const numbered = usesKyselys(c, 'getCurrentParameterPlaceholder', DefaultQueryCompiler);
    if (!numbered && !usesKyselys(c, 'getCurrentParameterPlaceholder', SqliteQueryCompiler, MysqlQueryCompiler)) {
      return undefined;
    }
    return new DirectWriter(c.getLeftIdentifierWrapper(), c.getRightIdentifierWrapper(), c, numbered);
  }

  private constructor(left: string, right: string, c: Tunable, numbered: boolean) {
    this.#left = left;
    this.#right = right;
    this.#sanitize = (identifier) => c.sanitizeIdentifier(identifier);
    this.#numbered = numbered;
  }

  /** `compileQuery` that writes what it knows and hands the rest to `kyselyCompile`. */
  compileQuery(kyselyCompile: QueryCompiler['compileQuery']): QueryCompiler['compileQuery'] {
    const writer = this;
    return function compileQuery(this: QueryCompiler, node, queryId): CompiledQuery {
      const sql = writer.#statement(node);
      if (sql === undefined) return kyselyCompile.call(this, node, queryId);
      return Object.freeze({ query: node, queryId, sql, parameters: writer.#parameters });
    };
  }

  /** Kysely's `visitSelectQuery` and friends for a top-level statement (no parentheses, no EXPLAIN). */
  #statement(node: Node): string | undefined {
    const clauses = CLAUSES[node.kind];
    if (clauses === undefined) return undefined;
    for (const clause in node) {
      if (node[clause] !== undefined && !clauses.has(clause)) return undefined;
    }
    this.#parameters = [];
    switch (node.kind) {
      case 'SelectQueryNode': {
        let sql: string | undefined = 'select';
        if (node.selections) sql = this.#then(sql, ' ', this.#selections(node.selections));
        if (node.from) sql = this.#then(sql, ' ', this.#from(node.from));
        if (node.where) sql = this.#then(sql, ' where ', this.#where(node.where));
        if (node.limit) sql = this.#then(sql, ' limit ', this.#clause(node.limit, 'LimitNode', 'limit'));
        if (node.offset) sql = this.#then(sql, ' offset ', this.#clause(node.offset, 'OffsetNode', 'offset'));
        return sql;
      }
      case 'InsertQueryNode': {
        let sql: string | undefined = node.replace ? 'replace' : 'insert';
        if (node.into) sql = this.#then(sql, ' into ', this.#expression(node.into));
        if (node.columns) sql = this.#then(sql, ' ', parenthesized(this.#list(node.columns, undefined)));
        if (node.values) sql = this.#then(sql, ' ', this.#values(node.values));
        if (node.returning) sql = this.#then(sql, ' ', this.#returning(node.returning));
        return sql;
      }
      case 'UpdateQueryNode': {
        let sql: string | undefined = 'update ';
        if (node.table) sql = this.#then(sql, '', this.#expression(node.table));
        if (node.table && sql !== undefined) sql += ' ';
        sql = this.#then(sql, 'set ', node.updates ? this.#updates(node.updates) : '');
        if (node.where) sql = this.#then(sql, ' where ', this.#where(node.where));
        if (node.returning) sql = this.#then(sql, ' ', this.#returning(node.returning));
        return sql;
      }
      default: {
        // DeleteQueryNode (the only other kind with clauses).
        let sql = this.#then('delete ', '', this.#from(node.from));
        if (node.where) sql = this.#then(sql, ' where ', this.#where(node.where));
        if (node.returning) sql = this.#then(sql, ' ', this.#returning(node.returning));
        return sql;
      }
    }
  }

  /** `sql + separator + part`, or `undefined` once either is (the statement is then Kysely's). */
  #then(sql: string | undefined, separator: string, part: string | undefined): string | undefined {
    return sql === undefined || part === undefined ? undefined : sql + separator + part;
  }

  #from(node: Node): string | undefined {
    if (node?.kind !== 'FromNode') return undefined;
    const list = this.#list(node.froms, undefined);
    return list === undefined ? undefined : `from ${list}`;
  }

  #where(node: Node): string | undefined {
    return node.kind === 'WhereNode' ? this.#expression(node.where) : undefined;
  }

  #clause(node: Node, kind: string, child: string): string | undefined {
    return node.kind === kind ? this.#expression(node[child]) : undefined;
  }

  #selections(nodes: Node): string | undefined {
    return this.#list(nodes, 'SelectionNode');
  }

  #returning(node: Node): string | undefined {
    if (node.kind !== 'ReturningNode') return undefined;
    const list = this.#selections(node.selections);
    return list === undefined ? undefined : `returning ${list}`;
  }

  /** Kysely's `visitValues`: rows of plain values or of expressions. */
  #values(node: Node): string | undefined {
    if (node.kind !== 'ValuesNode') return undefined;
    const list = this.#list(node.values, undefined);
    return list === undefined ? undefined : `values ${list}`;
  }

  #updates(nodes: Node): string | undefined {
    let sql = '';
    for (let i = 0; i < nodes.length; i++) {
      const update = nodes[i];
      if (update.kind !== 'ColumnUpdateNode') return undefined;
      const column = this.#expression(update.column);
      if (column === undefined) return undefined;
      const value = this.#expression(update.value);
      if (value === undefined) return undefined;
      sql += i === 0 ? `${column} = ${value}` : `, ${column} = ${value}`;
    }
    return sql;
  }

  /** Kysely's `compileList`: the items joined by `, ` (each unwrapped from a `SelectionNode` when `wrapper` says so). */
  #list(nodes: Node, wrapper: 'SelectionNode' | undefined): string | undefined {
    let sql = '';
    for (let i = 0; i < nodes.length; i++) {
      let item = nodes[i];
      if (wrapper !== undefined) {
        if (item.kind !== wrapper) return undefined;
        item = item.selection;
      }
      const text = this.#expression(item);
      if (text === undefined) return undefined;
      sql = i === 0 ? text : `${sql}, ${text}`;
    }
    return sql;
  }

  #expression(node: Node): string | undefined {
    switch (node.kind) {
      case 'ReferenceNode': {
        const column =
          node.column.kind === 'SelectAllNode'
            ? '*'
            : node.column.kind === 'ColumnNode'
              ? this.#identifier(node.column.column)
              : undefined;
        if (column === undefined || !node.table) return column;
        const table = this.#expression(node.table);
        return table === undefined ? undefined : `${table}.${column}`;
      }
      case 'ColumnNode':
        return this.#identifier(node.column);
      case 'IdentifierNode':
        return this.#identifier(node);
      case 'TableNode': {
        const table = node.table;
        if (table.kind !== 'SchemableIdentifierNode') return undefined;
        const name = this.#identifier(table.identifier);
        if (name === undefined || !table.schema) return name;
        const schema = this.#identifier(table.schema);
        return schema === undefined ? undefined : `${schema}.${name}`;
      }
      case 'SelectAllNode':
        return '*';
      case 'ValueNode':
        return node.immediate ? immediate(node.value) : this.#value(node.value);
      case 'PrimitiveValueListNode': {
        let sql = '(';
        const values = node.values;
        for (let i = 0; i < values.length; i++) {
          sql += i === 0 ? this.#value(values[i]) : `, ${this.#value(values[i])}`;
        }
        return `${sql})`;
      }
      case 'ValueListNode':
        return parenthesized(this.#list(node.values, undefined));
      case 'BinaryOperationNode': {
        const left = this.#expression(node.leftOperand);
        if (left === undefined || node.operator.kind !== 'OperatorNode') return undefined;
        const right = this.#expression(node.rightOperand);
        return right === undefined ? undefined : `${left} ${node.operator.operator} ${right}`;
      }
      case 'AndNode':
      case 'OrNode': {
        const left = this.#expression(node.left);
        if (left === undefined) return undefined;
        const right = this.#expression(node.right);
        if (right === undefined) return undefined;
        return left + (node.kind === 'AndNode' ? ' and ' : ' or ') + right;
      }
      case 'ParensNode':
        return parenthesized(this.#expression(node.node));
      case 'AliasNode': {
        const inner = this.#expression(node.node);
        if (inner === undefined) return undefined;
        const alias = this.#identifier(node.alias);
        return alias === undefined ? undefined : `${inner} as ${alias}`;
      }
      case 'RawNode': {
        // Kysely's `visitRaw`: the fragments as written, each followed by its parameter's node.
        const { sqlFragments, parameters } = node;
        let sql = '';
        for (let i = 0; i < sqlFragments.length; i++) {
          sql += sqlFragments[i];
          if (parameters.length > i) {
            const parameter = this.#expression(parameters[i]);
            if (parameter === undefined) return undefined;
            sql += parameter;
          }
        }
        return sql;
      }
      default:
        return undefined;
    }
  }

  #identifier(node: Node): string | undefined {
    if (node.kind !== 'IdentifierNode' || typeof node.name !== 'string') return undefined;
    return this.#left + this.#sanitize(node.name) + this.#right;
  }

  #value(value: unknown): string {
    this.#parameters.push(value);
    return this.#numbered ? `$${this.#parameters.length}` : '?';
  }
}

/** Whether `c`'s `method` is the implementation one of Kysely's `compilers` declares or inherits. */
export function usesKyselys(c: QueryCompiler, method: string, ...compilers: { prototype: unknown }[]): boolean {
  const own = (c as unknown as Record<string, unknown>)[method];
  return compilers.some((type) => (type.prototype as Record<string, unknown>)[method] === own);
}

function parenthesized(text: string | undefined): string | undefined {
  return text === undefined ? undefined : `(${text})`;
}

/** Kysely's `appendImmediateValue` for what `is null` and `eb.lit` produce; strings and dates stay Kysely's. */
function immediate(value: unknown): string | undefined {
  if (value === null) return 'null';
  const type = typeof value;
  return type === 'number' || type === 'boolean' || type === 'bigint' ? String(value) : undefined;
}
