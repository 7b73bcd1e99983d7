/**
 * The background jobs on node:test's mock clock (timers and Date): the statistics catch-up at
 * start, snapshots at every interval boundary (rescheduled after each run, after a failure too),
 * daily retention, and nothing after stop(). A real SQLite store does the work.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { parseUtc } from '../src/domain/time';
import { RETENTION_FIRST_DELAY_MS, STATS_GRACE_MS, startScheduledJobs, type JobLog } from '../src/jobs/scheduler';
import { DAY_MS, MINUTE_MS } from '../src/store/range-split';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import type { AlertStore } from '../src/store/store';
import { tempDir, testConfig } from './helpers';

type Line = { level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> };

/** Collects the jobs' log lines; a test waits for the n-th line that matches (events, not time). */
class JobLogCapture implements JobLog {
  readonly lines: Line[] = [];
  private waiters: Array<() => void> = [];
  info(fields: object, msg = ''): void { this.add('info', fields, msg); }
  warn(fields: object, msg = ''): void { this.add('warn', fields, msg); }
  error(fields: object, msg = ''): void { this.add('error', fields, msg); }

  count(msg: string): number {
    return this.lines.filter((l) => l.msg === msg).length;
  }

  async until(msg: string, n: number): Promise<void> {
    while (this.count(msg) < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private add(level: Line['level'], fields: object, msg: string): void {
    this.lines.push({ level, msg, fields: fields as Record<string, unknown> });
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** Lets promise chains and the store's work started by a timer run to their end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

const START = parseUtc('2026-11-27 10:03:00');

describe('scheduled jobs on a mock clock', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  beforeEach(() => {
    dir = tempDir();
    store = new SqliteStore({ path: join(dir.path, 'peba.db'), synchronous: 'normal' });
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: START });
  });
  afterEach(async () => {
    mock.timers.reset();
    await store.close();
    dir.remove();
  });

  const snapshotsFrom = async (): Promise<string[]> =>
    (await store.listStatisticsSnapshots('2000-01-01 00:00:00', '2100-01-01 00:00:00')).map((s) => s.from);

  it('catches up on the interval that ended before the start, then takes one at every boundary', async () => {
    const log = new JobLogCapture();
    const jobs = startScheduledJobs(store, testConfig(dir.path, { STATS_INTERVAL_MINUTES: '5' }), log);
    try {
      mock.timers.tick(STATS_GRACE_MS - 1);
      await settle();
      assert.deepEqual(await snapshotsFrom(), [], 'nothing before the grace period');
      mock.timers.tick(1);
      await log.until('statistics snapshot stored', 1);
      assert.deepEqual(await snapshotsFrom(), ['2026-11-27 09:55:00'], 'the catch-up: the last full interval');

      // 10:05 is the next boundary; its snapshot is taken the grace period later.
      mock.timers.tick(parseUtc('2026-11-27 10:05:00') + STATS_GRACE_MS - Date.now() - 1);
      await settle();
      assert.equal(log.count('statistics snapshot stored'), 1);
      mock.timers.tick(1);
      await log.until('statistics snapshot stored', 2);
      // Rescheduled after each run: the next two boundaries.
      mock.timers.tick(5 * MINUTE_MS);
      await log.until('statistics snapshot stored', 3);
      mock.timers.tick(5 * MINUTE_MS);
      await log.until('statistics snapshot stored', 4);
      assert.deepEqual(await snapshotsFrom(), ['2026-11-27 09:55:00', '2026-11-27 10:00:00', '2026-11-27 10:05:00', '2026-11-27 10:10:00']);
      assert.deepEqual(log.lines.filter((l) => l.level !== 'info'), []);
    } finally {
      jobs.stop();
    }
  });

  it('a restart does not take the caught-up snapshot again', async () => {
    const firstLog = new JobLogCapture();
    const jobs = startScheduledJobs(store, testConfig(dir.path, { STATS_INTERVAL_MINUTES: '5' }), firstLog);
    mock.timers.tick(STATS_GRACE_MS);
    await firstLog.until('statistics snapshot stored', 1);
    jobs.stop();

    // Counting writes on the real store: the second start must find the snapshot and write none.
    let writes = 0;
    const counting = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'putStatisticsSnapshot') writes++;
        return Reflect.get(target, property, receiver) as unknown;
      },
    }) as AlertStore;
    const log = new JobLogCapture();
    const restarted = startScheduledJobs(counting, testConfig(dir.path, { STATS_INTERVAL_MINUTES: '5' }), log);
    try {
      mock.timers.tick(STATS_GRACE_MS);
      await settle();
      assert.equal(writes, 0);
      assert.deepEqual(await snapshotsFrom(), ['2026-11-27 09:55:00']);
    } finally {
      restarted.stop();
    }
  });

  it('a failed snapshot is logged and the next boundary is still taken', async () => {
    let failures = 1;
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property === 'putStatisticsSnapshot' && failures > 0) {
          return async () => {
            failures--;
            throw new Error('disk full');
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as AlertStore;
    const log = new JobLogCapture();
    const jobs = startScheduledJobs(flaky, testConfig(dir.path, { STATS_INTERVAL_MINUTES: '5' }), log);
    try {
      mock.timers.tick(STATS_GRACE_MS);
      await log.until('statistics snapshot failed', 1);
      mock.timers.tick(parseUtc('2026-11-27 10:05:00') + STATS_GRACE_MS - Date.now());
      await log.until('statistics snapshot stored', 1);
      assert.deepEqual(await snapshotsFrom(), ['2026-11-27 10:00:00']);
    } finally {
      jobs.stop();
    }
  });

  it('retention runs a minute after the start, then daily; a failure does not stop it', async () => {
    let failures = 1;
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (String(property).startsWith('delete') && failures > 0) {
            failures--;
            return Promise.reject(new Error('locked'));
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as AlertStore;
    const log = new JobLogCapture();
    const jobs = startScheduledJobs(flaky, testConfig(dir.path, { RETENTION_DAYS: '30', STATS_INTERVAL_MINUTES: '0' }), log);
    try {
      mock.timers.tick(RETENTION_FIRST_DELAY_MS - 1);
      await settle();
      assert.deepEqual(log.lines, []);
      mock.timers.tick(1);
      await log.until('retention failed', 1);
      mock.timers.tick(DAY_MS);
      await log.until('retention done', 1);
      mock.timers.tick(DAY_MS);
      await log.until('retention done', 2);
    } finally {
      jobs.stop();
    }
  });

  it('after stop() nothing runs', async () => {
    const log = new JobLogCapture();
    const jobs = startScheduledJobs(store, testConfig(dir.path, { RETENTION_DAYS: '30', STATS_INTERVAL_MINUTES: '5' }), log);
    jobs.stop();
    mock.timers.tick(2 * DAY_MS);
    await settle();
    assert.deepEqual(log.lines, []);
    assert.deepEqual(await snapshotsFrom(), []);
  });
});
