import { SqlSyntaxError, StatementTimeoutError, UndefinedColumnError, UndefinedTableError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { rejectionOf, settleTimed } from '../suite/async-helpers.js';
import { expectDatabaseError } from '../suite/expect-typed-error.js';
import { runRaw, selectOne } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';

/**
 * Undefined table/column, syntax errors and statement timeouts raised by real statements.
 *
 * @example
 * ```ts
 * registerStatementErrorCases(ctx);
 * ```
 */
export function registerStatementErrorCases(ctx: SuiteContext): void {
  ctx.test('a missing table raises UndefinedTableError', async () => {
    const sf = await ctx.open();
    const error = await rejectionOf(
      sf.session((tx) =>
        tx
          .selectFrom('no_such_table' as 'account')
          .selectAll()
          .execute(),
      ),
    );
    expectDatabaseError(error, UndefinedTableError, 'UNDEFINED_TABLE', sf.dialect);
  });

  ctx.test('a missing column raises UndefinedColumnError', async () => {
    const sf = await ctx.open();
    const error = await rejectionOf(
      sf.session((tx) =>
        tx
          .selectFrom('account')
          .select('no_such_column' as 'id')
          .execute(),
      ),
    );
    expectDatabaseError(error, UndefinedColumnError, 'UNDEFINED_COLUMN', sf.dialect);
  });

  ctx.test('unparsable SQL raises SqlSyntaxError', async () => {
    const sf = await ctx.open();
    const error = await rejectionOf(sf.session((tx) => runRaw(tx, 'SELEC 1')));
    expectDatabaseError(error, SqlSyntaxError, 'SQL_SYNTAX', sf.dialect);
    expect(await sf.session((tx) => selectOne(tx))).toBe(1);
  });

  ctx.test(
    'a statement over the server statement timeout raises StatementTimeoutError',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      const setTimeoutSql = ctx.helper('setStatementTimeoutSql');
      const sleepSql = ctx.helper('sleepSql');
      const { error, ms } = await settleTimed(
        sf.session(async (tx) => {
          await runRaw(tx, setTimeoutSql(150));
          await runRaw(tx, sleepSql(3));
        }),
      );
      expectDatabaseError(error, StatementTimeoutError, 'STATEMENT_TIMEOUT', sf.dialect);
      expect(ms).toBeLessThan(2_500);
      expect(await sf.session((tx) => selectOne(tx))).toBe(1);
    },
    {
      skip:
        ctx.dialect.setStatementTimeoutSql === undefined
          ? 'dialect.setStatementTimeoutSql is not provided (no server statement timeout)'
          : ctx.serverHelpersSkip(['sleepSql']),
    },
  );
}
