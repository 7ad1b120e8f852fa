import type { Generated } from 'kysely';

/** The two tables every benchmark uses, in its own temporary schema/database/file. */
export interface BenchDB {
  bench_item: { id: number; name: string; qty: number };
  bench_log: { id: Generated<number>; item_id: number; note: string };
}

/** Rows in `bench_item`; point selects and updates cycle over ids 1..ITEM_COUNT. */
export const ITEM_COUNT = 1000;

/** The id the i-th operation touches. */
export function itemId(i: number): number {
  return (i % ITEM_COUNT) + 1;
}

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

/** DDL that creates both tables (run inside the bench's own schema/database/file). */
export function createTablesSql(dialect: Dialect): string[] {
  const logId = {
    sqlite: 'id INTEGER PRIMARY KEY',
    postgres: 'id SERIAL PRIMARY KEY',
    mysql: 'id INT AUTO_INCREMENT PRIMARY KEY',
  }[dialect];
  const text = dialect === 'mysql' ? 'VARCHAR(100)' : 'TEXT';
  const engine = dialect === 'mysql' ? ' ENGINE=InnoDB' : '';
  return [
    `CREATE TABLE bench_item (id INTEGER PRIMARY KEY, name ${text} NOT NULL, qty INTEGER NOT NULL)${engine}`,
    `CREATE TABLE bench_log (${logId}, item_id INTEGER NOT NULL, note ${text} NOT NULL)${engine}`,
  ];
}

/** Multi-row INSERTs (placeholders per dialect) that seed `bench_item`. */
export function seedStatements(dialect: Dialect): { sql: string; params: unknown[] }[] {
  const out: { sql: string; params: unknown[] }[] = [];
  const chunk = 200;
  for (let start = 1; start <= ITEM_COUNT; start += chunk) {
    const params: unknown[] = [];
    const tuples: string[] = [];
    for (let id = start; id < start + chunk && id <= ITEM_COUNT; id++) {
      const n = params.length;
      tuples.push(dialect === 'postgres' ? `($${n + 1}, $${n + 2}, $${n + 3})` : '(?, ?, ?)');
      params.push(id, `item-${id}`, 100);
    }
    out.push({ sql: `INSERT INTO bench_item (id, name, qty) VALUES ${tuples.join(', ')}`, params });
  }
  return out;
}
