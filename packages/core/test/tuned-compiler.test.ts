import {
  type Compilable,
  createQueryId,
  DefaultQueryCompiler,
  DummyDriver,
  type Generated,
  Kysely,
  MssqlAdapter,
  MssqlQueryCompiler,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type RootOperationNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { DIRECT_VISITORS, tuneQueryCompiler } from '../src/session/tuned-compiler.js';

interface DB {
  person: { id: Generated<number>; first_name: string; last_name: string | null; age: number; pet_id: number | null };
  pet: { id: Generated<number>; name: string; owner_id: number };
}

const dialects = [
  {
    name: 'sqlite',
    compiler: () => new SqliteQueryCompiler(),
    adapter: () => new SqliteAdapter(),
    introspector: SqliteIntrospector,
  },
  {
    name: 'postgres',
    compiler: () => new PostgresQueryCompiler(),
    adapter: () => new PostgresAdapter(),
    introspector: PostgresIntrospector,
  },
  {
    name: 'mysql',
    compiler: () => new MysqlQueryCompiler(),
    adapter: () => new MysqlAdapter(),
    introspector: MysqlIntrospector,
  },
] as const;

function kyselyWith(dialect: (typeof dialects)[number], compiler: () => QueryCompiler): Kysely<DB> {
  return new Kysely<DB>({
    dialect: {
      createAdapter: dialect.adapter,
      createDriver: () => new DummyDriver(),
      createQueryCompiler: compiler,
      createIntrospector: (db) => new dialect.introspector(db),
    },
  });
}

/** Everyday queries and corners: every node kind the tuned dispatch handles, and some it leaves to Kysely. */
const queries: Record<string, (db: Kysely<DB>) => Compilable> = {
  'point select': (db) => db.selectFrom('person').select(['id', 'first_name', 'age']).where('id', '=', 7),
  'select all, and/or, parens, order, limit, offset': (db) =>
    db
      .selectFrom('person')
      .selectAll()
      .where((eb) => eb.or([eb('age', '>', 18), eb.and([eb('first_name', 'like', 'A%'), eb('last_name', 'is', null)])]))
      .orderBy('age', 'desc')
      .orderBy('id')
      .limit(10)
      .offset(20),
  'join, alias, in list': (db) =>
    db
      .selectFrom('person as p')
      .innerJoin('pet', 'pet.owner_id', 'p.id')
      .select(['p.id as person', 'pet.name as pet'])
      .where('p.id', 'in', [1, 2, 3])
      .where('pet.name', '!=', 'Rex'),
  'subquery, aggregate, group by, having': (db) =>
    db
      .selectFrom('person')
      .select((eb) => [
        'age',
        eb.fn.countAll().as('n'),
        eb.selectFrom('pet').select('name').whereRef('pet.owner_id', '=', 'person.id').limit(1).as('first_pet'),
      ])
      .groupBy('age')
      .having((eb) => eb.fn.countAll(), '>', 1),
  'with (CTE), distinct, union': (db) =>
    db
      .with('adults', (q) => q.selectFrom('person').select('id').where('age', '>=', 18))
      .selectFrom('adults')
      .select('id')
      .distinct()
      .union(db.selectFrom('pet').select('owner_id as id')),
  'insert values, returning': (db) =>
    db
      .insertInto('person')
      .values([
        { first_name: 'Ann', last_name: null, age: 30, pet_id: null },
        { first_name: 'Bo', last_name: 'Li', age: 40, pet_id: 1 },
      ])
      .returning(['id']),
  'insert from select': (db) =>
    db
      .insertInto('pet')
      .columns(['name', 'owner_id'])
      .expression(db.selectFrom('person').select(['first_name', 'id'])),
  'update set, raw expression': (db) =>
    db
      .updateTable('person')
      .set({ age: sql<number>`age + ${1}`, last_name: 'X' })
      .where('id', '=', 3),
  'delete where exists': (db) =>
    db
      .deleteFrom('pet')
      .where(({ exists, selectFrom }) =>
        exists(selectFrom('person').select('id').whereRef('person.id', '=', 'pet.owner_id').where('age', '<', 1)),
      ),
  'raw sql with values, identifiers, literals': (db) =>
    db
      .selectFrom('person')
      .select([sql<string>`upper(${sql.ref('first_name')})`.as('upper'), sql.lit("it's").as('lit')])
      .where(sql<boolean>`${sql.ref('age')} between ${1} and ${99}`),
  'identifiers holding quote characters': (db) =>
    db
      .selectFrom(sql.table('we"ird`table').as('w"t'))
      .select(sql.ref('a"b`c').as('x``y"'))
      .where(sql.ref('w"t.col"umn'), '=', 'v'),
  'schema-qualified tables, table.*, column and table aliases': (db) =>
    db
      .withSchema('app')
      .selectFrom(['person as p', 'pet'])
      .selectAll('p')
      .select(['pet.name as pet_name', 'p.age'])
      .where('p.age', '>=', 18)
      .where('pet.owner_id', '<>', 0),
  'several tables, values in the selection and in limit/offset': (db) =>
    db
      .selectFrom(['person', 'pet'])
      .select((eb) => [eb.val('x').as('tag'), 'person.id'])
      .where('person.id', 'in', [])
      .where((eb) => eb.or([eb('pet.id', 'not in', [4, 5]), eb.not(eb('person.age', '=', 3))]))
      .limit(5)
      .offset(6),
  'nested and/or in parentheses, comparisons to columns and to null': (db) =>
    db
      .selectFrom('person')
      .select('id')
      .where((eb) =>
        eb.and([
          eb.or([eb('age', '<', 10), eb('age', '>', 90)]),
          eb('first_name', '=', eb.ref('last_name')),
          eb('last_name', 'is not', null),
          eb('age', '>', eb.lit(5)),
          eb('age', '!=', eb.lit(false) as never),
        ]),
      ),
  'a select the direct writer leaves midway (values before a subquery)': (db) =>
    db
      .selectFrom('person')
      .select('id')
      .where('age', '=', 1)
      .where('id', 'in', db.selectFrom('pet').select('owner_id').where('name', '=', 'Rex')),
  'select with order by and a lock': (db) =>
    db.selectFrom('person').select('id').where('id', '=', 1).orderBy('id').forUpdate(),
  'insert one row, returning': (db) =>
    db.insertInto('person').values({ first_name: 'Ann', last_name: null, age: 30, pet_id: null }).returning('id'),
  'insert rows with expressions, into a schema': (db) =>
    db
      .withSchema('app')
      .insertInto('pet')
      .values([
        { name: sql<string>`lower(${'REX'})`, owner_id: 1 },
        { name: 'Tom', owner_id: sql<number>`${2} + ${3}` },
      ]),
  'insert rows missing a column (default values)': (db) =>
    db.insertInto('person').values([
      { first_name: 'A', age: 1 },
      { first_name: 'B', age: 2, last_name: 'C' },
    ]),
  'update with a raw expression and a value, where, returning': (db) =>
    db
      .updateTable('person')
      .set({ age: sql<number>`age + 1`, last_name: 'Z' })
      .where('id', '=', 9)
      .where('age', 'in', [1, 2])
      .returning(['id', 'age']),
  'update from another table': (db) =>
    db.updateTable('person').from('pet').set({ age: 1 }).whereRef('pet.owner_id', '=', 'person.id'),
  'delete where, returning': (db) =>
    db.deleteFrom('pet').where('owner_id', '=', 4).where('name', 'like', 'R%').returning('id'),
  'raw fragments with references and values in a where': (db) =>
    db
      .selectFrom('person')
      .select('id')
      .where(sql<boolean>`${sql.ref('person.age')} between ${18} and ${sql.lit(65)}`),
  'case, cast, coalesce, json': (db) =>
    db
      .selectFrom('person')
      .select((eb) => [
        eb.case().when('age', '<', 18).then('minor').else('adult').end().as('band'),
        eb.cast('age', 'text').as('age_text'),
        eb.fn.coalesce('last_name', eb.val('none')).as('ln'),
      ]),
};

describe('tuneQueryCompiler', () => {
  for (const dialect of dialects) {
    describe(dialect.name, () => {
      const stock = kyselyWith(dialect, dialect.compiler);
      const tuned = kyselyWith(dialect, () => tuneQueryCompiler(dialect.compiler()));

      it('tunes Kysely’s own compiler (every visitor it dispatches to exists)', () => {
        const compiler = tuneQueryCompiler(dialect.compiler()) as unknown as Record<string, unknown>;
        expect(Object.hasOwn(compiler, 'visitNode')).toBe(true);
        for (const name of DIRECT_VISITORS) expect(typeof compiler[name], name).toBe('function');
      });

      for (const [name, query] of Object.entries(queries)) {
        it(`compiles ${name} exactly as Kysely does`, () => {
          const expected = query(stock).compile();
          const actual = query(tuned).compile();
          expect(actual.sql).toBe(expected.sql);
          expect(actual.parameters).toEqual(expected.parameters);
        });
      }

      it('writes everyday statements itself, and leaves other queries to Kysely', () => {
        const compiler = tuneQueryCompiler(dialect.compiler());
        let kyselyVisits = 0;
        // Installed after tuning (the writer was already chosen), these only count Kysely's visits.
        for (const name of ['visitSelectQuery', 'visitInsertQuery', 'visitUpdateQuery', 'visitDeleteQuery']) {
          const visit = (compiler as unknown as Record<string, (node: unknown) => void>)[name]!;
          Object.defineProperty(compiler, name, {
            value(this: unknown, node: unknown) {
              kyselyVisits++;
              return visit.call(this, node);
            },
          });
        }
        const kyselyVisitsFor = (name: string) => {
          kyselyVisits = 0;
          const expected = queries[name]!(stock).compile();
          const actual = compiler.compileQuery(expected.query, createQueryId());
          expect(actual.sql).toBe(expected.sql);
          expect(actual.parameters).toEqual(expected.parameters);
          expect(Object.isFrozen(actual)).toBe(true);
          return kyselyVisits;
        };
        const written = [
          'point select',
          'schema-qualified tables, table.*, column and table aliases',
          'nested and/or in parentheses, comparisons to columns and to null',
          'insert one row, returning',
          'insert rows with expressions, into a schema',
          'update with a raw expression and a value, where, returning',
          'delete where, returning',
          'raw fragments with references and values in a where',
          'identifiers holding quote characters',
        ];
        for (const name of written) expect(kyselyVisitsFor(name), name).toBe(0);
        expect(kyselyVisitsFor('with (CTE), distinct, union')).toBeGreaterThan(0);
        expect(kyselyVisitsFor('insert rows missing a column (default values)')).toBe(1);
        expect(kyselyVisitsFor('update from another table')).toBe(1);
        // Left midway (a subquery after a value): Kysely compiles it all, with its own parameters.
        expect(kyselyVisitsFor('a select the direct writer leaves midway (values before a subquery)')).toBe(2);
        expect(kyselyVisitsFor('point select')).toBe(0);
      });

      it('compiles the same compiler again and again (its node stack starts empty each time)', () => {
        const compiler = tuneQueryCompiler(dialect.compiler());
        const node = queries['join, alias, in list']!(stock).compile().query as RootOperationNode;
        const first = compiler.compileQuery(node, createQueryId()).sql;
        expect(compiler.compileQuery(node, createQueryId()).sql).toBe(first);
        expect((compiler as unknown as { nodeStack: unknown[] }).nodeStack).toEqual([]);
      });
    });
  }

  it('quotes as Kysely’s default compiler does when a dialect brings its own quote characters', () => {
    class Bracketed extends DefaultQueryCompiler {
      protected override getLeftIdentifierWrapper(): string {
        return '[';
      }
      protected override getRightIdentifierWrapper(): string {
        return ']';
      }
    }
    const stock = kyselyWith(dialects[0], () => new Bracketed());
    const tuned = kyselyWith(dialects[0], () => tuneQueryCompiler(new Bracketed()));
    for (const name of ['plain', 'a]b', 'a[b', '[]', 'a"b']) {
      const query = (db: Kysely<DB>) => db.selectFrom('person').select(sql.ref(name).as('x')).compile().sql;
      expect(query(tuned)).toBe(query(stock));
    }
    expect(tuned.selectFrom('person').select(sql.ref('a]b').as('x')).compile().sql).toBe(
      'select [a]]b] as [x] from [person]',
    );
  });

  it('writes selects directly only while every visitor involved is Kysely’s own', () => {
    class Uppercase extends SqliteQueryCompiler {
      protected override visitReference(node: Parameters<SqliteQueryCompiler['visitReference']>[0]): void {
        this.append('UPPER(');
        super.visitReference(node);
        this.append(')');
      }
    }
    class AtSign extends SqliteQueryCompiler {
      protected override getCurrentParameterPlaceholder(): string {
        return `@${this.numParameters}`;
      }
    }
    const point = (db: Kysely<DB>) => queries['point select']!(db).compile().sql;
    expect(point(kyselyWith(dialects[0], () => tuneQueryCompiler(new Uppercase())))).toBe(
      'select UPPER("id"), UPPER("first_name"), UPPER("age") from "person" where UPPER("id") = ?',
    );
    expect(point(kyselyWith(dialects[0], () => tuneQueryCompiler(new AtSign())))).toBe(
      'select "id", "first_name", "age" from "person" where "id" = @1',
    );
    const mssql = (compiler: () => QueryCompiler) =>
      kyselyWith({ ...dialects[0], adapter: () => new MssqlAdapter() }, compiler);
    for (const name of ['point select', 'select all, and/or, parens, order, limit, offset']) {
      const query = queries[name]!;
      expect(query(mssql(() => tuneQueryCompiler(new MssqlQueryCompiler()))).compile()).toEqual(
        expect.objectContaining({ sql: query(mssql(() => new MssqlQueryCompiler())).compile().sql }),
      );
    }
  });

  it('leaves a custom sanitizeIdentifier in charge', () => {
    class Stricter extends SqliteQueryCompiler {
      protected override sanitizeIdentifier(identifier: string): string {
        return identifier.toUpperCase().replaceAll('"', '""');
      }
    }
    const db = kyselyWith(dialects[0], () => tuneQueryCompiler(new Stricter()));
    expect(db.selectFrom('person').select('age').compile().sql).toBe('select "AGE" from "PERSON"');
  });

  it('returns a compiler that is not Kysely’s, or lacks a visitor, untouched', () => {
    const foreign: QueryCompiler = { compileQuery: () => ({}) as never };
    expect(tuneQueryCompiler(foreign)).toBe(foreign);
    expect(Object.keys(foreign)).toEqual(['compileQuery']);

    const partial = new SqliteQueryCompiler();
    Object.defineProperty(partial, 'visitOffset', { value: undefined });
    const visitNode = (partial as unknown as { visitNode: unknown }).visitNode;
    tuneQueryCompiler(partial);
    expect((partial as unknown as { visitNode: unknown }).visitNode).toBe(visitNode);
  });
});
