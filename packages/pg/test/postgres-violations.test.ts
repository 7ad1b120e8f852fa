import { type Adapter, createSessionFactory, ExclusionViolationError } from '@sessionfactory/core';
import type { DriverConnection, ErrorClassification } from '@sessionfactory/core/adapter';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyPostgresError, postgres } from '../src/index.js';
import { createTestSchema, TEST_URL, type TestSchema } from './support/test-database.js';

let schema: TestSchema;
let adapter: Adapter;
let connection: DriverConnection;

beforeAll(async () => {
  schema = await createTestSchema();
  adapter = postgres({ url: TEST_URL, searchPath: schema.name });
  connection = await adapter.connect();
  for (const sql of [
    'CREATE TABLE authors (id int PRIMARY KEY, email text NOT NULL CONSTRAINT authors_email_key UNIQUE)',
    `CREATE TABLE books (
       id int PRIMARY KEY,
       author_id int CONSTRAINT books_author_fk REFERENCES authors (id),
       title text NOT NULL,
       pages int CONSTRAINT books_pages_positive CHECK (pages > 0)
     )`,
    "INSERT INTO authors VALUES (1, 'a@example.com')",
    "INSERT INTO books VALUES (1, 1, 'First', 10)",
    // Ranges have GiST support built in: no extension needed for an exclusion constraint.
    'CREATE TABLE booking (room int, during int4range, CONSTRAINT booking_no_overlap EXCLUDE USING gist (during WITH &&))',
    "INSERT INTO booking VALUES (1, '[1,5)')",
  ]) {
    await connection.execute(CompiledQuery.raw(sql));
  }
});

afterAll(async () => {
  await connection?.close();
  await schema.drop();
});

const cases: [string, string, Partial<ErrorClassification>][] = [
  [
    'unique',
    "INSERT INTO authors VALUES (2, 'a@example.com')",
    {
      code: 'UNIQUE_VIOLATION',
      originalCode: '23505',
      constraint: 'authors_email_key',
      table: 'authors',
      column: 'email',
    },
  ],
  [
    'primary key',
    "INSERT INTO authors VALUES (1, 'b@example.com')",
    { code: 'UNIQUE_VIOLATION', constraint: 'authors_pkey', table: 'authors', column: 'id' },
  ],
  [
    'foreign key on insert',
    "INSERT INTO books VALUES (2, 99, 'Orphan', 1)",
    {
      code: 'FOREIGN_KEY_VIOLATION',
      originalCode: '23503',
      constraint: 'books_author_fk',
      table: 'books',
      column: 'author_id',
    },
  ],
  [
    'foreign key on delete of a referenced row',
    'DELETE FROM authors WHERE id = 1',
    { code: 'FOREIGN_KEY_VIOLATION', constraint: 'books_author_fk', table: 'books', column: undefined },
  ],
  [
    'not null',
    'INSERT INTO books VALUES (3, 1, NULL, 1)',
    { code: 'NOT_NULL_VIOLATION', originalCode: '23502', table: 'books', column: 'title' },
  ],
  [
    'check',
    "INSERT INTO books VALUES (4, 1, 'Empty', 0)",
    { code: 'CHECK_VIOLATION', originalCode: '23514', constraint: 'books_pages_positive', table: 'books' },
  ],
  [
    'exclusion',
    "INSERT INTO booking VALUES (2, '[3,8)')",
    { code: 'EXCLUSION_VIOLATION', originalCode: '23P01', constraint: 'booking_no_overlap', table: 'booking' },
  ],
  ['undefined table', 'SELECT * FROM no_such_table', { code: 'UNDEFINED_TABLE', originalCode: '42P01' }],
  ['undefined column', 'SELECT no_such_column FROM books', { code: 'UNDEFINED_COLUMN', originalCode: '42703' }],
  ['syntax', 'SELEKT 1', { code: 'SQL_SYNTAX', originalCode: '42601' }],
  ['anything else', 'SELECT 1/0', { code: 'DATABASE', originalCode: '22012' }],
];

describe('real statement errors classify with their fields', () => {
  it.each(cases)('%s', async (_name, sql, expected) => {
    let caught: unknown;
    try {
      await connection.execute(CompiledQuery.raw(sql));
    } catch (error) {
      caught = error;
    }
    const classification = classifyPostgresError(caught);
    expect(classification).toMatchObject(expected);
    expect(classification?.originalMessage).toBe((caught as Error).message);
  });
});

describe('a real exclusion violation in a session', () => {
  it('is an ExclusionViolationError naming its constraint and table', async () => {
    const sf = createSessionFactory(postgres({ url: TEST_URL, searchPath: schema.name }));
    try {
      const error = await sf
        .session((tx) => sql`INSERT INTO booking VALUES (3, '[4,6)')`.execute(tx))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(ExclusionViolationError);
      expect(error).toMatchObject({ code: 'EXCLUSION_VIOLATION', constraint: 'booking_no_overlap', table: 'booking' });
    } finally {
      await sf.close();
    }
  });
});
