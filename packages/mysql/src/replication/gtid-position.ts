/**
 * Replication positions as GTID sets, in the two spellings of the MySQL family, parsed, merged
 * and compared here so that core can treat them as opaque tokens.
 *
 * - MariaDB: a GTID list `domain-server-seq[,domain-server-seq...]` (`@@gtid_binlog_pos`,
 *   `@@gtid_slave_pos`), one entry per replication domain; sequence numbers grow per domain.
 * - MySQL 8: a GTID set `uuid:1-5:7,uuid2[:tag]:1-3` (`@@gtid_executed`), intervals per source.
 */
export interface GtidPositions {
  /** Whether `token` is a well-formed, non-empty position of this flavour. */
  isPosition(token: string): boolean;
  /** Whether a server that applied `replayed` has every transaction of `target`. */
  hasReached(replayed: string, target: string): boolean;
  /** One position covering both. */
  combine(a: string, b: string): string;
}

const MARIADB_GTID = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/;

/** MariaDB: per domain, the GTID with the highest sequence number. */
function parseMariadb(list: string): Map<string, { server: string; seq: bigint }> | undefined {
  const domains = new Map<string, { server: string; seq: bigint }>();
  const entries = list.split(',').map((entry) => entry.trim());
  if (list.trim() === '') return domains;
  for (const entry of entries) {
    const match = MARIADB_GTID.exec(entry);
    if (match === null) return undefined;
    const [, domain = '', server = '', seq = '0'] = match;
    const known = domains.get(domain);
    if (known === undefined || BigInt(seq) > known.seq) domains.set(domain, { server, seq: BigInt(seq) });
  }
  return domains;
}

function formatMariadb(domains: Map<string, { server: string; seq: bigint }>): string {
  return [...domains]
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([domain, { server, seq }]) => `${domain}-${server}-${seq}`)
    .join(',');
}

/**
 * MariaDB GTID lists.
 *
 * @example
 * ```ts
 * mariadbGtids.combine('0-1-7', '0-1-9,1-2-3') // '0-1-9,1-2-3'
 * mariadbGtids.hasReached('0-1-9', '0-1-7')    // true
 * ```
 */
export const mariadbGtids: GtidPositions = {
  isPosition: (token) => token.length <= 4096 && token.trim() !== '' && parseMariadb(token) !== undefined,
  hasReached(replayed, target) {
    const have = parseMariadb(replayed) ?? new Map();
    for (const [domain, { seq }] of parseMariadb(target) ?? new Map()) {
      const got = have.get(domain);
      if (got === undefined || got.seq < seq) return false;
    }
    return true;
  },
  combine(a, b) {
    const merged = parseMariadb(a) ?? new Map();
    for (const [domain, gtid] of parseMariadb(b) ?? new Map()) {
      const known = merged.get(domain);
      if (known === undefined || gtid.seq > known.seq) merged.set(domain, gtid);
    }
    return formatMariadb(merged);
  },
};

type Interval = readonly [bigint, bigint];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TAG = /^[a-z_][a-z0-9_]{0,31}$/i;
const INTERVAL = /^(\d{1,20})(?:-(\d{1,20}))?$/;

/** MySQL: source (uuid, or uuid:tag) to its sorted, merged intervals. */
function parseMysql(set: string): Map<string, Interval[]> | undefined {
  const sources = new Map<string, Interval[]>();
  if (set.trim() === '') return sources;
  for (const raw of set.split(',')) {
    const parts = raw.trim().split(':');
    const uuid = parts.shift()?.toLowerCase() ?? '';
    if (!UUID.test(uuid) || parts.length === 0) return undefined;
    let key = uuid;
    for (const part of parts) {
      const interval = INTERVAL.exec(part);
      if (interval === null) {
        if (!TAG.test(part)) return undefined;
        key = `${uuid}:${part.toLowerCase()}`;
        continue;
      }
      const start = BigInt(interval[1] ?? '0');
      const end = interval[2] === undefined ? start : BigInt(interval[2]);
      if (start < 1n || end < start) return undefined;
      sources.set(key, [...(sources.get(key) ?? []), [start, end]]);
    }
  }
  for (const [key, intervals] of sources) sources.set(key, mergeIntervals(intervals));
  return sources;
}

function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const merged: [bigint, bigint][] = [];
  for (const [start, end] of sorted) {
    const last = merged.at(-1);
    if (last === undefined || start > last[1] + 1n) merged.push([start, end]);
    else if (end > last[1]) last[1] = end;
  }
  return merged;
}

function formatMysql(sources: Map<string, Interval[]>): string {
  return [...sources]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, intervals]) => `${key}:${intervals.map(([s, e]) => (s === e ? `${s}` : `${s}-${e}`)).join(':')}`)
    .join(',');
}

/**
 * MySQL 8 GTID sets (what `WAIT_FOR_EXECUTED_GTID_SET` takes).
 *
 * @example
 * ```ts
 * const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562'
 * mysqlGtids.combine(`${u}:1-5`, `${u}:6-9`) // `${u}:1-9`
 * mysqlGtids.hasReached(`${u}:1-9`, `${u}:3`) // true
 * ```
 */
export const mysqlGtids: GtidPositions = {
  isPosition: (token) => token.length <= 65_536 && token.trim() !== '' && parseMysql(token) !== undefined,
  hasReached(replayed, target) {
    const have = parseMysql(replayed) ?? new Map<string, Interval[]>();
    for (const [key, intervals] of parseMysql(target) ?? new Map<string, Interval[]>()) {
      const got = have.get(key) ?? [];
      for (const [start, end] of intervals) {
        if (!got.some(([s, e]) => s <= start && end <= e)) return false;
      }
    }
    return true;
  },
  combine(a, b) {
    const merged = parseMysql(a) ?? new Map<string, Interval[]>();
    for (const [key, intervals] of parseMysql(b) ?? new Map<string, Interval[]>()) {
      merged.set(key, mergeIntervals([...(merged.get(key) ?? []), ...intervals]));
    }
    return formatMysql(merged);
  },
};
