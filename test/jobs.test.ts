import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../src/config';
import type { AlertRecord } from '../src/domain/alert';
import { summarizeActivity } from '../src/domain/activity';
import { parseUtc } from '../src/domain/time';
import { importDocument } from '../src/ingest/alert-import';
import { describeRetention, runRetention } from '../src/jobs/retention';
import { nextStatisticsRun, startScheduledJobs, STATS_GRACE_MS } from '../src/jobs/scheduler';
import { perTypeKey, totalKey } from '../src/domain/activity';
import { computeStatistics, lastFullInterval, takeStatisticsSnapshot } from '../src/jobs/statistics';
import { DAY_MS, HOUR_MS } from '../src/store/range-split';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { REPO_ROOT, tempDir, testConfig, withStore } from './helpers';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const COWRIE = 'SSH/console(cowrie)';
const DIONAEA = 'Network(Dionaea)';

let serial = 0;

/** A community alert; each call differs in source port and request, so ids never collide. */
function alert(fields: Record<string, unknown>): AlertRecord {
  serial++;
  const result = importDocument({
    createTime: fields['recievedTime'],
    clientDomain: true,
    peerIdent: 'cowrie-community-01',
    sourceEntryIp: '81.2.69.142',
    sourceEntryPort: String(40000 + serial),
    targetEntryIp: '89.160.20.112',
    originalRequestString: `request ${serial}`,
    ...fields,
  });
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.record;
}

test('retention deletes old alerts only and keeps their aggregates until those are pruned', async () => {
  await withStore(async (store) => {
    const now = parseUtc('2026-06-01 12:00:00');
    await store.storeAlerts([
      alert({ recievedTime: '2026-01-10 10:15:00' }),
      alert({ recievedTime: '2026-01-10 10:45:00', peerIdent: 'dionaea-1' }),
      alert({ recievedTime: '2026-05-31 10:00:00' }),
      alert({ recievedTime: '2026-05-31 10:30:00', clientDomain: false }),
    ]);
    const oldHour = { from: parseUtc('2026-01-10 10:00:00'), to: parseUtc('2026-01-10 11:00:00') };
    const oldDays = { from: parseUtc('2026-01-10 00:00:00'), to: parseUtc('2026-01-11 00:00:00') };
    const recentHour = { from: parseUtc('2026-05-31 10:00:00'), to: parseUtc('2026-05-31 11:00:00') };

    const result = await runRetention(store, { RETENTION_DAYS: 30, AGGREGATE_RETENTION_DAYS: 0 }, now);
    assert.deepEqual(result, { alertsBefore: now - 30 * DAY_MS, alertsDeleted: 2, aggregatesBefore: null, aggregateRowsDeleted: 0 });
    assert.deepEqual(describeRetention(result), [
      'alerts: deleted 2 received before 2026-05-02 12:00:00',
      'aggregates: kept forever (AGGREGATE_RETENTION_DAYS=0)',
    ]);
    assert.equal(await store.countAlerts(), 2);
    assert.equal((await store.newestReceived('both', 10)).length, 2);
    // Statistics over whole buckets still cover the deleted alerts.
    assert.equal(await store.countReceived('community', oldHour), 2);
    assert.equal((await store.createdPerDayAndType('community', oldDays)).length, 2);
    assert.equal(await store.countReceived('community', recentHour), 1);
    assert.equal(await store.countReceived('private', recentHour), 1);

    // Aggregate retention of 60 days prunes January's buckets, whole UTC days, and keeps May's.
    const pruned = await runRetention(store, { RETENTION_DAYS: 30, AGGREGATE_RETENTION_DAYS: 60 }, now);
    assert.equal(pruned.alertsDeleted, 0);
    assert.equal(pruned.aggregatesBefore, parseUtc('2026-04-02 00:00:00'));
    assert.ok(pruned.aggregateRowsDeleted > 0);
    assert.equal(await store.countReceived('community', oldHour), 0);
    assert.deepEqual(await store.createdPerDayAndType('community', oldDays), []);
    assert.equal(await store.countReceived('community', recentHour), 1);
    assert.equal(await store.countReceived('private', recentHour), 1);

    assert.ok((await store.pruneAggregatesBefore(now + DAY_MS)) > 0);
    assert.equal(await store.countReceived('community', recentHour), 0);
    assert.equal(await store.pruneAggregatesBefore(now + DAY_MS), 0);
    assert.equal(await store.countAlerts(), 2, 'pruning aggregates never touches raw alerts');
  });
});

test('retention also deletes the CVE rows of deleted alerts and payloads not seen since', async () => {
  await withStore(async (store) => {
    const now = parseUtc('2026-06-01 12:00:00');
    const payload = (text: string) => ({ md5: createHash('md5').update(text).digest('hex'), fuzzyHash: null, mimeType: 'text/plain', size: Buffer.byteLength(text), content: () => Buffer.from(text) });
    await store.storeAlerts([
      { ...alert({ recievedTime: '2026-01-10 10:15:00' }), cves: ['CVE-2017-0144'], payloads: [payload('old payload')] },
      { ...alert({ recievedTime: '2026-05-31 10:00:00' }), cves: ['CVE-2017-0144'], payloads: [payload('recent payload')] },
      // Seen first long ago, and again recently: kept.
      { ...alert({ recievedTime: '2026-01-11 10:00:00' }), cves: [], payloads: [payload('recurring payload')] },
      { ...alert({ recievedTime: '2026-05-30 10:00:00' }), cves: [], payloads: [payload('recurring payload')] },
    ]);
    assert.equal((await store.listCveAlerts('CVE-2017-0144')).length, 2);
    await runRetention(store, { RETENTION_DAYS: 30, AGGREGATE_RETENTION_DAYS: 0 }, now);
    assert.deepEqual((await store.listCveAlerts('CVE-2017-0144')).map((c) => c.recievedTime), ['2026-05-31 10:00:00']);
    assert.equal(await store.getPayload(payload('old payload').md5), undefined);
    assert.equal((await store.getPayload(payload('recent payload').md5))?.count, 1);
    assert.equal((await store.getPayload(payload('recurring payload').md5))?.count, 2);
  });
});

test('statistics snapshot of a hand-built interval: two sensors, three daemons', async () => {
  await withStore(async (store) => {
    await store.storeAlerts([
      // sensor-a: cowrie (3 alerts) and dionaea (2 alerts)
      alert({ recievedTime: '2026-01-10 10:00:00', hostname: 'sensor-a' }),
      alert({ recievedTime: '2026-01-10 10:20:00', hostname: 'sensor-a' }),
      alert({ recievedTime: '2026-01-10 10:59:59', hostname: 'sensor-a' }),
      alert({ recievedTime: '2026-01-10 10:05:00', hostname: 'sensor-a', peerIdent: 'dionaea-community-01' }),
      alert({ recievedTime: '2026-01-10 10:06:00', hostname: 'sensor-a', peerIdent: 'dionaea-community-01' }),
      // a sensor without hostname, known by its target address: the same analyzer id as on
      // sensor-a, which is another daemon (2 alerts)
      alert({ recievedTime: '2026-01-10 10:30:00', targetEntryIp: '175.16.199.1' }),
      alert({ recievedTime: '2026-01-10 10:31:00', targetEntryIp: '175.16.199.1' }),
      // not counted: outside [10:00, 11:00), or private
      alert({ recievedTime: '2026-01-10 09:59:59', hostname: 'sensor-a' }),
      alert({ recievedTime: '2026-01-10 11:00:00', hostname: 'sensor-a' }),
      alert({ recievedTime: '2026-01-10 10:30:00', hostname: 'sensor-c', clientDomain: false }),
    ]);
    const range = { from: parseUtc('2026-01-10 10:00:00'), to: parseUtc('2026-01-10 11:00:00') };
    const snapshot = await takeStatisticsSnapshot(store, range);
    assert.deepEqual(snapshot, {
      from: '2026-01-10 10:00:00',
      to: '2026-01-10 10:59:59',
      values: {
        comm_totalAlerts: 7,
        comm_totalHoneypots: 2,
        comm_totalDaemons: 3,
        comm_totalRatio: 3.5,
        [`comm_alerts_${DIONAEA}`]: 2,
        [`comm_honeypots_${DIONAEA}`]: 1,
        [`comm_daemons_${DIONAEA}`]: 1,
        [`comm_ratio_${DIONAEA}`]: 2,
        [`comm_alerts_${COWRIE}`]: 5,
        [`comm_honeypots_${COWRIE}`]: 2,
        [`comm_daemons_${COWRIE}`]: 2,
        [`comm_ratio_${COWRIE}`]: 2.5,
      },
    });
    assert.deepEqual(await store.listStatisticsSnapshots('2026-01-10 00:00:00', '2026-01-10 23:59:59'), [snapshot]);
    assert.equal(perTypeKey('ratio', COWRIE), 'comm_ratio_SSH/console(cowrie)');
    assert.equal(totalKey('ratio'), 'comm_totalRatio');
  });
});

test('statistics of an empty interval are zeros with a finite ratio', () => {
  assert.deepEqual(computeStatistics(summarizeActivity([])), { comm_totalAlerts: 0, comm_totalHoneypots: 0, comm_totalDaemons: 0, comm_totalRatio: 0 });
  const third = computeStatistics(summarizeActivity([{ sensor: 's1', peerIdent: 'p', peerType: 'Webpage', count: 1 },
    { sensor: 's2', peerIdent: 'p', peerType: 'Webpage', count: 0 }, { sensor: 's3', peerIdent: 'p', peerType: 'Webpage', count: 0 }]));
  assert.equal(third['comm_totalHoneypots'], 1, 'rows without alerts name no honeypot');
});

test('snapshot intervals sit on UTC boundaries, taken a grace period after they end', () => {
  const t = parseUtc('2026-01-10 11:00:00');
  assert.deepEqual(lastFullInterval(t + 1234, HOUR_MS), { from: t - HOUR_MS, to: t });
  assert.deepEqual(lastFullInterval(t, HOUR_MS), { from: t - HOUR_MS, to: t });
  // Just after a boundary (within the grace period) the interval that just ended is still due.
  assert.deepEqual(nextStatisticsRun(t + 1000, HOUR_MS), { at: t + STATS_GRACE_MS, range: { from: t - HOUR_MS, to: t } });
  assert.deepEqual(nextStatisticsRun(t + STATS_GRACE_MS, HOUR_MS), { at: t + HOUR_MS + STATS_GRACE_MS, range: { from: t, to: t + HOUR_MS } });
  assert.deepEqual(nextStatisticsRun(t - 1000, 15 * 60_000).range, { from: t - 15 * 60_000, to: t });
});

test('the scheduler starts with every job enabled, keeps no process alive, and stops', async () => {
  const dir = tempDir();
  const store = new SqliteStore({ path: join(dir.path, 'peba.db') });
  try {
    const logged: string[] = [];
    const log = { info: (_: object, m?: string) => logged.push(`info ${m}`), warn: (_: object, m?: string) => logged.push(`warn ${m}`), error: (_: object, m?: string) => logged.push(`error ${m}`) };
    const jobs = startScheduledJobs(store, testConfig(dir.path, { RETENTION_DAYS: '30', AGGREGATE_RETENTION_DAYS: '90', STATS_INTERVAL_MINUTES: '5' }), log);
    jobs.stop();
    jobs.stop();
    assert.deepEqual(logged, []);
    startScheduledJobs(store, testConfig(dir.path, { STATS_INTERVAL_MINUTES: '0' }), log).stop();
  } finally {
    await store.close();
    dir.remove();
  }
});

test('configuration of retention and statistics', () => {
  const defaults = loadConfig({ env: {}, file: undefined });
  assert.equal(defaults.RETENTION_DAYS, 0);
  assert.equal(defaults.AGGREGATE_RETENTION_DAYS, 0);
  assert.equal(defaults.STATS_INTERVAL_MINUTES, 60);
  const ok = (env: Record<string, string>) => loadConfig({ env, file: undefined });
  assert.equal(ok({ PEBA_RETENTION_DAYS: '30' }).AGGREGATE_RETENTION_DAYS, 0);
  assert.equal(ok({ PEBA_RETENTION_DAYS: '30', PEBA_AGGREGATE_RETENTION_DAYS: '30' }).AGGREGATE_RETENTION_DAYS, 30);
  assert.equal(ok({ PEBA_RETENTION_DAYS: '30', PEBA_AGGREGATE_RETENTION_DAYS: '365' }).AGGREGATE_RETENTION_DAYS, 365);
  assert.equal(ok({ PEBA_STATS_INTERVAL_MINUTES: '0' }).STATS_INTERVAL_MINUTES, 0);
  assert.equal(ok({ PEBA_STATS_INTERVAL_MINUTES: '15' }).STATS_INTERVAL_MINUTES, 15);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PEBA_RETENTION_DAYS: '30', PEBA_AGGREGATE_RETENTION_DAYS: '7' }, /^AGGREGATE_RETENTION_DAYS: 7 keeps aggregates for less time/],
    [{ PEBA_AGGREGATE_RETENTION_DAYS: '7' }, /^AGGREGATE_RETENTION_DAYS: 7 .*0 = forever/],
    [{ PEBA_RETENTION_DAYS: '-1' }, /^RETENTION_DAYS: -1 is outside/],
    [{ PEBA_RETENTION_DAYS: 'a month' }, /^RETENTION_DAYS: expected an integer/],
    [{ PEBA_STATS_INTERVAL_MINUTES: '50' }, /^STATS_INTERVAL_MINUTES: 50 does not divide a day/],
    [{ PEBA_STATS_INTERVAL_MINUTES: '2880' }, /^STATS_INTERVAL_MINUTES: 2880 is outside/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig({ env, file: undefined }), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
  }
});

test('CLI: retention and stats run once and print what they did', async () => {
  const dir = tempDir();
  const db = join(dir.path, 'peba.db');
  try {
    const store = new SqliteStore({ path: db });
    await store.storeAlerts([
      alert({ recievedTime: '2020-01-10 10:15:00', hostname: 'sensor-a' }),
      alert({ recievedTime: '2020-01-10 10:16:00', hostname: 'sensor-b' }),
    ]);
    await store.close();
    const env = { ...process.env, PEBA_STORE: `sqlite:${db}` };
    const stats = await run(process.execPath, [CLI, 'stats', '--from', '2020-01-10 10:00:00'], { env });
    assert.deepEqual(JSON.parse(stats.stdout), {
      UTCtimeFrom: '2020-01-10 10:00:00', UTCtimeTo: '2020-01-10 10:59:59',
      comm_totalAlerts: 2, comm_totalHoneypots: 2, comm_totalDaemons: 2, comm_totalRatio: 1,
      [`comm_alerts_${COWRIE}`]: 2, [`comm_honeypots_${COWRIE}`]: 2, [`comm_daemons_${COWRIE}`]: 2, [`comm_ratio_${COWRIE}`]: 1,
    });
    const bad = await run(process.execPath, [CLI, 'stats', '--from', '2020-01-10'], { env }).then(() => null, (e: { code: number; stderr: string }) => e);
    assert.equal(bad?.code, 2);
    assert.match(bad!.stderr, /--from: expected "YYYY-MM-DD HH:MM:SS"/);

    const kept = await run(process.execPath, [CLI, 'retention'], { env });
    assert.equal(kept.stdout, 'alerts: kept forever (RETENTION_DAYS=0)\naggregates: kept forever (AGGREGATE_RETENTION_DAYS=0)\n');
    const deleted = await run(process.execPath, [CLI, 'retention'], { env: { ...env, PEBA_RETENTION_DAYS: '365' } });
    assert.match(deleted.stdout, /^alerts: deleted 2 received before \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\n/);

    const reopened = new SqliteStore({ path: db });
    try {
      assert.equal(await reopened.countAlerts(), 0);
      const snapshots = await reopened.listStatisticsSnapshots('2020-01-10 10:00:00', '2020-01-10 10:00:00');
      assert.equal(snapshots[0]?.values['comm_totalAlerts'], 2, 'the stats command stores the snapshot too');
    } finally {
      await reopened.close();
    }
  } finally {
    dir.remove();
  }
});
