/** One `account` row with numbers normalised (drivers return integers as number, string or bigint). */
export interface AccountRow {
  id: number;
  owner: string;
  balance: number;
}

/** Rows the cases insert; ids are explicit (no autoincrement anywhere). */
export const ALICE: AccountRow = { id: 1, owner: 'alice', balance: 100 };
export const BOB: AccountRow = { id: 2, owner: 'bob', balance: 100 };
export const CAROL: AccountRow = { id: 3, owner: 'carol', balance: 100 };
export const DAVE: AccountRow = { id: 4, owner: 'dave', balance: 100 };

/** The two accounts most cases start from. */
export const DEFAULT_ACCOUNTS: readonly AccountRow[] = [ALICE, BOB];

/**
 * The password failing factories should use: the connection error cases assert it never
 * appears in an error message or its JSON form.
 */
export const CONFORMANCE_SECRET = 'sf-conformance-secret';
