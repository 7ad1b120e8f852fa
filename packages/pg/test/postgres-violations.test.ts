import type { Adapter } from '@sessionfactory/core';
import type { DriverConnection, ErrorClassification } from '@sessionfactory/core/adapter';
import { CompiledQuery } from 'kysely';
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
