import { createSessionFactory, type SessionFactory } from '@sessionfactory/core';
import type { Kit } from '../kits/kit.js';
import { type BenchDB, itemId } from '../schema.js';
import { unitBody } from '../workloads.js';
import type { QueueResult } from './protocol.js';

/** The pool every queue run uses. */
export const QUEUE_POOL = 10;

const gc = (globalThis as { gc?: () => void }).gc;

/** heapUsed after a full GC (when `--expose-gc` is on, as it is for every child). */
function settledHeap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * The order in which `sf`'s pool handed connections to sessions, from public events only: every
 * `checkout` gets the next number, and on one connection the n-th checkout belongs to the n-th
 * session that ran a statement there (a connection serves one session at a time, and a session's
 * first statement, its BEGIN, finishes before it gives the connection back). Returns the hand-out
 * number of a session id, or NaN when the events do not line up.
 */
function handOutOrder(sf: SessionFactory<BenchDB>): (sessionId: string) => number {
  const checkouts = new Map<number, number[]>();
  const sessions = new Map<number, string[]>();
  const seen = new Set<string>();
  let next = 0;
  sf.on('checkout', ({ connectionId }) => {
    const list = checkouts.get(connectionId) ?? [];
    list.push(next++);
    checkouts.set(connectionId, list);
  });
  sf.on('query', ({ sessionId, connectionId }) => {
    if (sessionId === undefined || seen.has(sessionId)) return;
    seen.add(sessionId);
    const list = sessions.get(connectionId) ?? [];
    list.push(sessionId);
    sessions.set(connectionId, list);
  });
  let byId: Map<string, number> | undefined;
  return (sessionId) => {
    if (!byId) {
      byId = new Map();
      for (const [connectionId, ids] of sessions) {
        const numbers = checkouts.get(connectionId) ?? [];
        ids.forEach((id, n) => {
          if (n < numbers.length) byId!.set(id, numbers[n]!);
        });
      }
    }
    return byId.get(sessionId) ?? Number.NaN;
  };
}

/** How the connection order and the body start order compare with the queue order. */
export interface QueueOrder {
  /** True when every session got a higher connection number than every session queued before it. */
  readonly fifo: boolean | undefined;
  /** Sessions whose connection number is lower than that of the session queued just before. */
  readonly outOfOrder: number;
  /** Largest |place in the start order - place in the queue|. */
  readonly maxDisplacement: number;
}

/**
 * `connectionNo[i]`: the number of the connection hand-out session i (queued i-th) got, NaN if it
 * never got one or its number could not be read (then FIFO is undefined: unknown, not false);
 * `startedAs[i]`: the place its body started at, -1 if never.
 */
export function queueOrder(connectionNo: readonly number[], startedAs: readonly number[]): QueueOrder {
  let outOfOrder = 0;
  let unreadable = false;
  let maxDisplacement = 0;
  for (let i = 0; i < connectionNo.length; i++) {
    if (Number.isNaN(connectionNo[i]!)) unreadable = true;
    else if (i > 0 && connectionNo[i]! < connectionNo[i - 1]!) outOfOrder++;
    if (startedAs[i]! >= 0) maxDisplacement = Math.max(maxDisplacement, Math.abs(startedAs[i]! - i));
  }
  return { fifo: unreadable ? undefined : outOfOrder === 0, outOfOrder, maxDisplacement };
}

/**
 * In the child: queues `sessions` units of work at once (all submitted in one synchronous loop,
 * so the queue order is the index) on a pool of 10 that is already open, and waits for all of
 * them. Each session's place in the pool's hand-out order is recorded (`sf.session`: from the
 * factory's `checkout` and `query` events, see `handOutOrder`; raw: a counter bumped when the
 * driver's pool hands the connection out), and so is the order its body started in. Heap is sampled every 5 ms and every 64 starts.
 */
export async function queueInChild(kit: Kit, variant: 'raw' | 'sf', sessions: number): Promise<QueueResult> {
  const sf =
    variant === 'sf'
      ? createSessionFactory<BenchDB>(kit.adapter(), {
          // The default configuration, a pool of 10, and a pool wait long enough for the last of
          // 10 000 (the test is about order and memory; PoolTimeoutError is tested elsewhere).
          pool: { size: QUEUE_POOL, maxOverflow: 0, timeoutMs: 600_000 },
        })
      : undefined;
  if (variant === 'raw' && kit.dialect === 'sqlite') throw new Error('raw better-sqlite3 has no pool to queue on');
  // Open all ten connections and warm up the code paths before the baseline is taken.
  const warm = (i: number) =>
    sf ? sf.session((tx) => unitBody(tx, itemId(i))) : (kit.rawUnit(itemId(i)) as Promise<void>);
  for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: QUEUE_POOL }, (_, i) => warm(i)));

  const heapBefore = settledHeap();
  const rssBefore = process.memoryUsage().rss;
  let heapPeak = heapBefore;
  const sample = () => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  };
  const sampler = setInterval(sample, 5);

  // Listening starts with every connection idle, so each connection's checkouts and sessions pair up.
  const handedOutAs = sf ? handOutOrder(sf) : undefined;
  const sessionIds = new Array<string>(sessions).fill('');
  const connectionNo = new Array<number>(sessions).fill(Number.NaN);
  const startedAs = new Array<number>(sessions).fill(-1);
  let started = 0;
  let handedOut = 0;
  const begin = (i: number) => {
    startedAs[i] = started++;
    if ((started & 63) === 0) sample();
  };
  const t0 = performance.now();
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < sessions; i++) {
    all.push(
      sf
        ? sf.session(async (tx) => {
            sessionIds[i] = tx.info.id;
            begin(i);
            await unitBody(tx, itemId(i));
          })
        : (kit.rawUnit(itemId(i), () => {
            connectionNo[i] = handedOut++;
            begin(i);
          }) as Promise<void>),
    );
  }
  const settled = await Promise.allSettled(all);
  const totalMs = performance.now() - t0;
  clearInterval(sampler);
  sample();
  await sf?.close();

  if (handedOutAs) {
    for (let i = 0; i < sessions; i++) connectionNo[i] = sessionIds[i] ? handedOutAs(sessionIds[i]!) : Number.NaN;
  }
  const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  const order = queueOrder(connectionNo, startedAs);
  const firstError = failures[0]?.reason;
  return {
    ok: true,
    sessions,
    completed: settled.length - failures.length,
    failed: failures.length,
    ...(firstError ? { firstError: firstError instanceof Error ? firstError.message : String(firstError) } : {}),
    ...order,
    totalMs,
    rssBefore,
    rssPeak: process.resourceUsage().maxRSS * 1024,
    heapBefore,
    heapPeak,
  };
}
