import { Kysely, SqliteDialect, SingleConnectionProvider } from 'kysely';
import Database from 'better-sqlite3';
const k = new Kysely({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
const props = k.getExecutor ? null : null;
const N = 200000;
const ex = k.getExecutor();
function bench(name, fn) { for (let i = 0; i < 20000; i++) fn(); const t = performance.now(); for (let i = 0; i < N; i++) fn(); console.log(name.padEnd(45), ((performance.now() - t) * 1000 / N).toFixed(3), 'us'); }
bench('executor.withConnectionProvider', () => ex.withConnectionProvider(new SingleConnectionProvider({})));
bench('k.withoutPlugins() (new Kysely)', () => k.withoutPlugins());
bench('compile select by pk', () => k.selectFrom('t').select(['id', 'name', 'qty']).where('id', '=', 1).compile());
bench('compile update', () => k.updateTable('t').set({ qty: 1 }).where('id', '=', 1).compile());
