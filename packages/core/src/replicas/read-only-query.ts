import type { CompiledQuery, OperationNode } from 'kysely';

/**
 * Whether a statement of `sf.db` outside a session may run on a replica: a plain Kysely
 * SELECT (no FOR UPDATE/SHARE, no data-modifying WITH). Raw SQL (`sql\`...\``) is of unknown
 * kind and may write, so it goes to the primary, as does everything else.
 *
 * @example
 * ```ts
 * isReplicaSafe(db.selectFrom('account').selectAll().compile()) // true
 * isReplicaSafe(sql`select 1`.compile(db))                         // false: raw SQL may write
 * ```
 */
export function isReplicaSafe(query: CompiledQuery): boolean {
  return isPlainSelect(query.query);
}

function isPlainSelect(node: OperationNode | undefined): boolean {
  if (node?.kind !== 'SelectQueryNode') return false;
  const select = node as OperationNode & {
    endModifiers?: readonly OperationNode[];
    with?: { expressions: readonly { expression: OperationNode }[] };
  };
  // FOR UPDATE / FOR SHARE / ... take row locks: a primary-only statement.
  if (select.endModifiers && select.endModifiers.length > 0) return false;
  if (select.with && !select.with.expressions.every((cte) => isPlainSelect(cte.expression))) return false;
  return true;
}
