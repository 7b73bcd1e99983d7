/**
 * The commit queue sends the next group as soon as the store has written the previous group's
 * alerts, each sender still learning only when its own commit is done. On a real SQLite store
 * whose commits are held until the test lets them through.
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { AlertRecord, StoreOutcome } from '../src/domain/alert';
import { CommitQueue } from '../src/ingest/commit-queue';
import type { AlertStore } from '../src/store/store';
import { alertRecords, withStore } from './helpers';

interface HeldCommit {
  readonly records: readonly AlertRecord[];
  /** Tells the queue the alerts are written (as OpenSearch does before its payload `_bulk`). */
  alertsWritten(): void;
  /** Lets the call write to the real store and finish. */
  release(): void;
}

/** The store with its commits held: each storeAlerts call waits in `held` until released, then writes. */
function holding(store: AlertStore): { store: AlertStore; held: HeldCommit[] } {
  const held: HeldCommit[] = [];
  const proxy = new Proxy(store, {
    get(target, key) {
      if (key === 'storeAlerts') {
        return (records: readonly AlertRecord[], alertsWritten?: () => void): Promise<StoreOutcome> => new Promise<void>((release) => {
          held.push({ records, release, alertsWritten: () => alertsWritten?.() });
        }).then(() => target.storeAlerts(records));
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, held };
}

/** Settles `promise` into a flag the test can look at. */
function watch(promise: Promise<void>): { done: boolean } {
  const state = { done: false };
  void promise.then(() => { state.done = true; });
  return state;
}

/** Lets the promise callbacks of a released commit run (no timer involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((done) => setImmediate(done));
}

const DELAY_MS = 5;

/** Runs `run` with a queue on a held SQLite store, setTimeout under the test's control. */
async function withQueue(run: (queue: CommitQueue, held: HeldCommit[], sqlite: AlertStore) => Promise<void>): Promise<void> {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await withStore(async (sqlite) => {
      const { store, held } = holding(sqlite);
      await run(new CommitQueue(store, DELAY_MS), held, sqlite);
    });
  } finally {
    mock.timers.reset();
  }
}

describe('commit queue', () => {
  it('sends the next group once the store has written the previous group\'s alerts, while that commit finishes', () => withQueue(async (queue, held, sqlite) => {
    const [a, b, c, d] = [alertRecords(3), alertRecords(2), alertRecords(4), alertRecords(1)];
    const first = watch(queue.commit(a));
    mock.timers.tick(DELAY_MS);
    assert.deepEqual(held.map((h) => h.records.length), [3]);
    const second = watch(queue.commit(b));
    const third = watch(queue.commit(c));
    mock.timers.tick(DELAY_MS);
    assert.equal(held.length, 1, 'nothing else is sent while the first group\'s alerts are written');
    assert.equal(queue.depth, 9);
    const drained = watch(queue.drained());

    held[0]!.alertsWritten();
    assert.deepEqual(held.map((h) => h.records.length), [3, 6], 'what waited goes as one group');
    const fourth = watch(queue.commit(d));
    mock.timers.tick(DELAY_MS);
    assert.equal(held.length, 2, 'the second group\'s alerts are being written');

    held[1]!.alertsWritten();
    held[1]!.release();
    await settle();
    assert.equal(second.done && third.done, true);
    assert.equal(first.done, false, 'the first sender waits for its own commit to finish');
    assert.deepEqual(held.map((h) => h.records.length), [3, 6, 1]);

    held[0]!.release();
    await settle();
    assert.equal(first.done, true);
    assert.equal(drained.done, false, 'a commit still runs');
    held[2]!.release();
    await settle();
    assert.equal(fourth.done && drained.done, true);
    assert.equal(queue.depth, 0);
    for (const record of [...a, ...b, ...c, ...d]) assert.ok(await sqlite.getAlert(record.id), `${record.id} stored`);
  }));

  it('runs one commit at a time with a store that does not say when its alerts are written', () => withQueue(async (queue, held, sqlite) => {
    const first = watch(queue.commit(alertRecords(2)));
    mock.timers.tick(DELAY_MS);
    const second = watch(queue.commit(alertRecords(3)));
    mock.timers.tick(DELAY_MS);
    assert.deepEqual(held.map((h) => h.records.length), [2]);
    held[0]!.release();
    await settle();
    assert.equal(first.done, true);
    assert.deepEqual(held.map((h) => h.records.length), [2, 3]);
    held[1]!.release();
    await settle();
    assert.equal(second.done, true);
    assert.equal(await sqlite.countAlerts(), 5);
  }));
});
