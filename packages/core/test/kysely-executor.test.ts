import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  UnknownRow,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { BEGIN, COMMIT, harness, INSERT, ids, insert, rejection } from './support/harness.js';

/** Counts what Kysely hands a plugin, and tags every row it sees. */
function taggingPlugin() {
  const seen = { queries: 0, results: 0 };
  const plugin: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs) {
      seen.queries += 1;
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      seen.results += 1;
      return { ...args.result, rows: args.result.rows.map((row) => ({ ...row, tagged: true })) };
    },
  };
  return { plugin, seen };
}

// sf.db and tx run queries straight through the engine; these check what Kysely's own path
// did still happens: plugins, abort signals, and one connection per session.
describe('the engine as Kysely executor', () => {
  it('runs plugins added with withPlugin on sf.db and on tx (query and result)', async () => {
    const { sf } = await harness();
    await insert(sf.db, 1);
    const outside = taggingPlugin();
    const rows = await sf.db.withPlugin(outside.plugin).selectFrom('t').select('id').execute();
    expect(rows).toEqual([{ id: 1, tagged: true }]);
    expect(outside.seen).toEqual({ queries: 1, results: 1 });

    const inside = taggingPlugin();
    const inSession = await sf.session((tx) => tx.withPlugin(inside.plugin).selectFrom('t').select('id').execute());
    expect(inSession).toEqual([{ id: 1, tagged: true }]);
    expect(inside.seen).toEqual({ queries: 1, results: 1 });
    expect(sf.stats().inUse).toBe(0);
  });

  it('keeps Kysely abort handling for a query with a signal: an aborted one never runs', async () => {
    const { adapter, sf } = await harness();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const error = await rejection(sf.db.insertInto('t').values({ id: 1 }).execute({ signal: controller.signal }));
    expect(error.message).toContain('stop');
    expect(adapter.statements).toEqual([]);
    expect(sf.stats().inUse).toBe(0);
    await sf.db.insertInto('t').values({ id: 2 }).execute({ signal: new AbortController().signal });
    expect(await ids(sf)).toEqual([2]);
  });

  it('runs concurrent queries of one session on its connection, in the order they were issued', async () => {
    const { adapter, sf } = await harness({ pool: { size: 3 } });
    await sf.session(async (tx) => {
      await Promise.all([insert(tx, 1), insert(tx, 2), insert(sf.db, 3)]);
    });
    expect(adapter.statements).toEqual([BEGIN, INSERT, INSERT, INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([1, 2, 3]);
  });

  it('returns the connection of a failed sf.db query to the pool, with the typed error', async () => {
    const { sf } = await harness();
    await insert(sf.db, 1);
    const error = await rejection(insert(sf.db, 1));
    expect(error.name).toBe('UniqueViolationError');
    expect(sf.stats().inUse).toBe(0);
    await insert(sf.db, 2);
    expect(await ids(sf)).toEqual([1, 2]);
  });
});
