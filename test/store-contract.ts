/**
 * The contract every AlertStore implementation must meet, written once and run against each
 * store (SQLite now; the Elasticsearch/OpenSearch store joins with its own factory).
 * Statistics answers are checked against a naive oracle that filters and counts the very
 * records that were stored, over random windows that cut through buckets of every grain.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { summarizeActivity } from '../src/domain/activity';
import type { AlertDocument, AlertRecord } from '../src/domain/alert';
import type { DomainScope, Side, SourceActivity, SourceActivityQuery } from '../src/domain/query';
import { formatUtc, parseUtc } from '../src/domain/time';
import type { AlertStore } from '../src/store/store';
import { alertRecord, seededRandom } from './helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PEER_TYPES = ['SSH/console(cowrie)', 'Network(honeytrap)', 'Network(Dionaea)', 'Webpage'];
const COUNTRIES: Array<[string, string, string]> = [['GB', 'United Kingdom', '51.5142 , -0.0931'], ['SE', 'Sweden', '58.4167 , 15.6167'], ['-', '-', '0.0 , 0.0']];

function inScope(doc: AlertDocument, scope: DomainScope): boolean {
  return scope === 'both' || doc.clientDomain === (scope === 'community');
}

function within(time: string, from: number, to: number): boolean {
  const t = parseUtc(time);
  return t >= from && t < to;
}

function tally(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/**
 * Private-domain alerts in the 23 whole hours before the current one, where only some top keys
 * are heavy in single buckets: each of `perHour` every hour, and `single` in one hour only.
 * `fields(key, k)` puts the key into the k-th alert of its hour (a port, a location) and spreads
 * the other dimensions thin, so the two skewed sets stay out of each other's tops.
 */
function skewed(now: number, perHour: ReadonlyArray<readonly [string, number]>, single: readonly [string, number],
  fields: (key: string, k: number) => Partial<AlertDocument>): AlertRecord[] {
  const records: AlertRecord[] = [];
  const currentHour = Math.floor(now / HOUR) * HOUR;
  const add = (key: string, hourStart: number, count: number): void => {
    for (let k = 0; k < count; k++) {
      const time = formatUtc(hourStart + 1800_000 + k * 1000);
      records.push(alertRecord({ recievedTime: time, createTime: time, clientDomain: false, ...fields(key, k) },
        createHash('md5').update(`skewed-${key}-${hourStart}-${k}`).digest('hex')));
    }
  };
  for (let hour = 1; hour <= 23; hour++) for (const [key, count] of perHour) add(key, currentHour - hour * HOUR, count);
  add(single[0], currentHour - 5 * HOUR, single[1]);
  return records;
}

/** Private alerts keyed by `key` (`fieldsOf` makes their fields), the k-th of a day at 01:00 + k s. */
function dailyAlert(label: string, first: number, fieldsOf: (key: string) => Partial<AlertDocument>): (key: string, day: number, k: number) => AlertRecord {
  return (key, day, k) => {
    const time = formatUtc(first + day * DAY + 3600_000 + k * 1000);
    return alertRecord({ recievedTime: time, createTime: time, clientDomain: false, ...fieldsOf(key) },
      createHash('md5').update(`${label}-${key}-${day}-${k}`).digest('hex'));
  };
}

/** Private honeytrap alerts of one port: the k-th on the day-th day after `first`, an hour into it. */
const dailyPortAlert = (label: string, first: number): ReturnType<typeof dailyAlert> =>
  dailyAlert(label, first, (targetEntryPort) => ({ peerType: 'Network(honeytrap)', targetEntryPort }));

/** Ports no other record uses, around the hourly heavy thresholds of the top tables (16, 8, 4). */
const skewedPorts = (now: number): AlertRecord[] => skewed(now, [['60001', 40], ['60002', 30], ['60003', 15]], ['60004', 100],
  (port, k) => ({ peerType: 'Network(honeytrap)', targetEntryPort: port, location: `${k % 40}.5 , 1.5`, locationDestination: `${k % 40}.5 , 1.5` }));

/** Source locations (by createTime), around the hourly heavy thresholds of locations (128, 32). */
const skewedLocations = (now: number): AlertRecord[] => skewed(now, [['1.0 , 1.0', 60], ['2.0 , 2.0', 50], ['3.0 , 3.0', 31]], ['4.0 , 4.0', 200],
  (location, k) => ({ location, locationDestination: `${k % 40}.5 , 2.5`, targetEntryPort: String(61000 + (k % 500)) }));

/** The firewall feeds' answer (AlertStore.sourceActivity) counted from the stored records. */
function naiveActivity(records: readonly AlertRecord[], scope: DomainScope, query: SourceActivityQuery): SourceActivity[] {
  const bySource = new Map<string, AlertDocument[]>();
  for (const { document: doc } of records) {
    if (!inScope(doc, scope) || !within(doc.recievedTime, query.range.from, query.range.to)) continue;
    if (query.peerTypes.length > 0 && !query.peerTypes.includes(doc.peerType)) continue;
    if (query.family !== undefined && doc.sourceEntryIp.includes(':') !== (query.family === 6)) continue;
    bySource.set(doc.sourceEntryIp, [...(bySource.get(doc.sourceEntryIp) ?? []), doc]);
  }
  return [...bySource].map(([address, docs]) => {
    const times = docs.map((d) => d.recievedTime).sort();
    return {
      address,
      count: docs.length,
      firstSeen: times[0]!,
      lastSeen: times[times.length - 1]!,
      peerTypes: [...new Set(docs.map((d) => d.peerType))].sort(),
      sensors: new Set(docs.map((d) => d.peerIdent)).size,
    };
  }).filter((s) => s.count >= query.minAlerts && s.sensors >= query.minSensors)
    .sort((a, b) => b.count - a.count || (a.address < b.address ? -1 : 1));
}

export function storeContract(name: string, open: () => Promise<AlertStore>, cleanup: () => Promise<void> = async () => {}): void {
  describe(`AlertStore contract: ${name}`, () => {
    let store: AlertStore;
    const now = Math.floor(Date.now() / 1000) * 1000;
    const next = seededRandom(20261127);
    const records: AlertRecord[] = [];

    before(async () => {
      store = await open();
      // 3000 alerts over the last 3 days, several per second near the edges of minutes and hours.
      for (let i = 0; i < 3000; i++) {
        const received = now - Math.floor(next() * 3 * DAY / 1000) * 1000;
        const [country, countryName, location] = COUNTRIES[Math.floor(next() * COUNTRIES.length)]!;
        const [targetCountry, targetCountryName, locationDestination] = COUNTRIES[Math.floor(next() * COUNTRIES.length)]!;
        const peerType = PEER_TYPES[Math.floor(next() * PEER_TYPES.length)]!;
        records.push(alertRecord({
          recievedTime: formatUtc(received),
          createTime: formatUtc(received - Math.floor(next() * 7200) * 1000),
          clientDomain: next() < 0.8,
          peerType,
          peerIdent: `${peerType.slice(0, 4)}-${Math.floor(next() * 5)}`,
          hostname: next() < 0.3 ? 'undefined' : `sensor-${Math.floor(next() * 7)}`,
          targetEntryIp: `89.160.20.${112 + Math.floor(next() * 4)}`,
          sourceEntryIp: `81.2.69.${142 + Math.floor(next() * 20)}`,
          targetEntryPort: String([22, 23, 80, 443, 445][Math.floor(next() * 5)]),
          originalRequestString: `/page/${Math.floor(next() * 6)}`,
          country, countryName, location, targetCountry, targetCountryName, locationDestination,
        }, createHash('md5').update(`contract-${i}`).digest('hex')));
      }
      records.push(...skewedPorts(now), ...skewedLocations(now));
      for (let i = 0; i < records.length; i += 500) await store.storeAlerts(records.slice(i, i + 500));
    });

    after(async () => {
      await store.close();
      await cleanup();
    });

    test('storing the same records again inserts nothing and changes no answer', async () => {
      const window = { from: now - 2 * DAY, to: now + 1000 };
      const before = await store.countReceivedByPeerType('both', window);
      const outcome = await store.storeAlerts(records.slice(0, 700));
      assert.deepEqual(outcome, { inserted: 0, duplicates: 700 });
      assert.deepEqual(await store.countReceivedByPeerType('both', window), before);
      assert.equal(await store.countAlerts(), records.length);
    });

    test('a stored document reads back field for field', async () => {
      const record = records[1234]!;
      assert.deepEqual(await store.getAlert(record.id), record.document);
      assert.equal(await store.getAlert('0'.repeat(32)), undefined);
    });

    test('an id is any text up to 512 bytes, case-sensitive: each its own alert, read and exported back as given', async () => {
      const md5 = createHash('md5').update('contract-ids').digest('hex');
      // md5 hex, the same upper-case, an Elasticsearch auto id, unicode, the longest ES allows, short hex.
      const ids = [md5, md5.toUpperCase(), 'fQ0cpZMBcL1LbrqPYz-1', 'ä €𝄞', 'x'.repeat(512), md5.slice(0, 16)];
      const time = formatUtc(now - HOUR);
      const cve = 'CVE-2026-0001';
      const same = ids.map((id) => ({ ...alertRecord({ recievedTime: time, createTime: time, vulnid: cve }, id), cves: [cve] }));
      assert.deepEqual(await store.storeAlerts(same), { inserted: ids.length, duplicates: 0 });
      records.push(...same);
      assert.deepEqual(await store.storeAlerts(same), { inserted: 0, duplicates: ids.length });
      for (const record of same) assert.deepEqual(await store.getAlert(record.id), record.document, record.id);
      const exported: string[] = [];
      for await (const alert of store.exportAlerts()) if (alert.document.vulnid === cve) exported.push(alert.id);
      assert.deepEqual(exported.sort(), [...ids].sort());
      assert.deepEqual((await store.listCveAlerts(cve)).map((row) => row.alertId).sort(), [...ids].sort());
    });

    test('counts over random windows equal a naive count, in every scope', async () => {
      for (let i = 0; i < 60; i++) {
        const from = now - Math.floor(next() * 3 * DAY);
        const to = Math.min(now + 1000, from + Math.floor(next() * 2 * DAY) + 1000);
        const scope = (['community', 'private', 'both'] as const)[i % 3];
        const expected = records.filter((r) => inScope(r.document, scope) && within(r.document.recievedTime, from, to));
        assert.equal(await store.countReceived(scope, { from, to }), expected.length, `${scope} [${formatUtc(from)}, ${formatUtc(to)})`);
        const perType = await store.countReceivedByPeerType(scope, { from, to });
        assert.deepEqual(new Map(perType.map((k) => [k.key, k.count])), tally(expected.map((r) => r.document.peerType)));
      }
    });

    test('per day and type by createTime, countries by recievedTime, locations by createTime: naive counts', async () => {
      for (let i = 0; i < 20; i++) {
        const from = now - Math.floor(next() * 3 * DAY);
        const to = from + Math.floor(next() * DAY) + 1000;
        const scope: DomainScope = i % 2 === 0 ? 'community' : 'both';
        const side: Side = i % 4 < 2 ? 'source' : 'target';
        const created = records.filter((r) => inScope(r.document, scope) && within(r.document.createTime, from, to));
        const perDay = await store.createdPerDayAndType(scope, { from, to });
        assert.deepEqual(
          new Map(perDay.map((d) => [`${formatUtc(d.day).slice(0, 10)}|${d.peerType}`, d.count])),
          tally(created.map((r) => `${r.document.createTime.slice(0, 10)}|${r.document.peerType}`)),
        );
        const days = await store.createdPerDay(scope, { from, to });
        assert.deepEqual(days.map((d) => d.day), [...days.map((d) => d.day)].sort((a, b) => a - b), 'earliest first');
        assert.deepEqual(new Map(days.map((d) => [formatUtc(d.day).slice(0, 10), d.count])), tally(created.map((r) => r.document.createTime.slice(0, 10))));
        const locations = await store.topLocationsCreated(scope, { from, to }, side, 100);
        assert.deepEqual(
          new Map(locations.map((l) => [l.key, l.count])),
          tally(created.map((r) => (side === 'source' ? r.document.location : r.document.locationDestination))),
        );
        const received = records.filter((r) => inScope(r.document, scope) && within(r.document.recievedTime, from, to));
        const countries = (await store.topCountriesReceived(scope, { from, to }, 100))[side];
        assert.deepEqual(
          new Map(countries.map((c) => [`${c.code}|${c.name}`, c.count])),
          tally(received.map((r) => (side === 'source' ? `${r.document.country}|${r.document.countryName}` : `${r.document.targetCountry}|${r.document.targetCountryName}`))),
        );
        const sensorOf = (d: AlertDocument): string => (d.hostname === 'undefined' ? d.targetEntryIp : d.hostname);
        assert.deepEqual(
          await store.activitySummary(scope, { from, to }),
          summarizeActivity([...tally(received.map((r) => `${sensorOf(r.document)}|${r.document.peerIdent}|${r.document.peerType}`))]
            .map(([key, count]) => {
              const [sensor, peerIdent, peerType] = key.split('|') as [string, string, string];
              return { sensor, peerIdent, peerType, count };
            })),
        );
      }
    });

    test('top timelines over windows that cut through buckets: naive counts, on the UTC bucket grid', async () => {
      const today = Math.floor(now / DAY) * DAY;
      const windows = [
        // The three windows of `tops`: the last 24 h hourly, from 00:00 6 days ago 6-hourly, from 00:00 27 days ago daily.
        ['destports', HOUR, now - DAY, now + 1000], ['urls', HOUR, now - DAY, now + 1000],
        ['urls', 6 * HOUR, today - 6 * DAY, now + 1000], ['destports', DAY, today - 27 * DAY, now + 1000],
        // Both edges inside hours, in the past.
        ['destports', 6 * HOUR, now - 2 * DAY - 1_234_000, now - 7 * HOUR + 56_000], ['urls', DAY, now - 50 * HOUR + 7000, now - 3 * HOUR - 1000],
      ] as const;
      for (const [kind, bucket, from, to] of windows) {
        const timelines = await store.topTimelines('community', kind, { from, to }, bucket, 3);
        const relevant = records.filter((r) => r.document.clientDomain && within(r.document.recievedTime, from, to) &&
          (kind === 'destports' || r.document.peerType === 'Webpage'));
        const keyOf = (d: AlertDocument): string => (kind === 'destports' ? d.targetEntryPort : d.originalRequestString);
        const totals = [...tally(relevant.map((r) => keyOf(r.document)))].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
        const label = `${kind} per ${bucket / HOUR} h over [${formatUtc(from)}, ${formatUtc(to)})`;
        assert.deepEqual(timelines.map((t) => [t.key, t.total]), totals, label);
        for (const timeline of timelines) {
          const expected = tally(relevant.filter((r) => keyOf(r.document) === timeline.key)
            .map((r) => String(Math.floor(parseUtc(r.document.recievedTime) / bucket) * bucket)));
          assert.deepEqual(new Map([...timeline.buckets].map(([k, v]) => [String(k), v])), expected, label);
        }
      }
    });

    test('a key that many others outrank on some days still counts on those days (no top N per day)', async () => {
      // Private, three whole days before the other records: 62000 has 50, 2 and 50 alerts; on
      // the middle day 30 other ports have 5 each. A top list cut per day (a search engine's terms
      // aggregation over daily indices, as the original read them) loses 62000's 2 alerts there.
      const first = Math.floor(now / DAY) * DAY - 7 * DAY;
      const port = dailyPortAlert('outranked', first);
      const outranked = [
        ...[50, 2, 50].flatMap((count, day) => Array.from({ length: count }, (_, k) => port('62000', day, k))),
        ...Array.from({ length: 30 }, (_, i) => Array.from({ length: 5 }, (_, k) => port(String(62100 + i), 1, k))).flat(),
      ];
      records.push(...outranked);
      await store.storeAlerts(outranked);
      const range = { from: first, to: first + 3 * DAY };
      const [top] = await store.topTimelines('private', 'destports', range, DAY, 1);
      assert.deepEqual(top, { key: '62000', total: 102, buckets: new Map([[first, 50], [first + DAY, 2], [first + 2 * DAY, 50]]) });
      const three = await store.topTimelines('private', 'destports', range, DAY, 3);
      assert.deepEqual(three.map((t) => [t.key, t.total, [...t.buckets]]),
        [['62000', 102, [[first, 50], [first + DAY, 2], [first + 2 * DAY, 50]]], ['62100', 5, [[first + DAY, 5]]], ['62101', 5, [[first + DAY, 5]]]]);
    });

    test('a key on top of most days but out of a crowded day\'s top list keeps that day\'s count', async () => {
      // Private, three whole days before the others: 64000 has 50, 1 and 50 alerts, 63999 has 100
      // on the first day only; on the middle day 1100 other ports have 2 each, more keys than a
      // search engine lists per daily index. Summing per-day top lists gives 64000 100, a tie
      // that 63999 wins by key; exact, 64000 has 101.
      const first = Math.floor(now / DAY) * DAY - 11 * DAY;
      const port = dailyPortAlert('crowded', first);
      const crowded = [
        ...[50, 1, 50].flatMap((count, day) => Array.from({ length: count }, (_, k) => port('64000', day, k))),
        ...Array.from({ length: 100 }, (_, k) => port('63999', 0, k)),
        ...Array.from({ length: 1100 }, (_, i) => [port(String(64100 + i), 1, 0), port(String(64100 + i), 1, 1)]).flat(),
      ];
      records.push(...crowded);
      for (let i = 0; i < crowded.length; i += 500) await store.storeAlerts(crowded.slice(i, i + 500));
      const range = { from: first, to: first + 3 * DAY };
      const top = async (limit: number): Promise<Array<[string, number, Array<[number, number]>]>> =>
        (await store.topTimelines('private', 'destports', range, DAY, limit)).map((t) => [t.key, t.total, [...t.buckets]]);
      assert.deepEqual(await top(1), [['64000', 101, [[first, 50], [first + DAY, 1], [first + 2 * DAY, 50]]]]);
      assert.deepEqual(await top(3), [['64000', 101, [[first, 50], [first + DAY, 1], [first + 2 * DAY, 50]]],
        ['63999', 100, [[first, 100]]], ['64100', 2, [[first + DAY, 2]]]]);
    });

    test('top URLs over hours stay exact when a crowded day hides a key that ties the top', async () => {
      // Private, two whole days before the others: /a has 29 alerts, then 1 among 60 URLs of 2
      // alerts each and /b's 30. A day's list of its top 50 misses /a's last alert: summed lists
      // put /b (30) before /a (29); exact, both have 30 and /a comes first by key.
      const first = Math.floor(now / DAY) * DAY - 15 * DAY;
      const url = dailyAlert('crowded-urls', first, (originalRequestString) => ({ peerType: 'Webpage', originalRequestString }));
      const crowd = Array.from({ length: 60 }, (_, i) => `/crowd-${String(i).padStart(2, '0')}`);
      const alerts = [
        ...Array.from({ length: 29 }, (_, k) => url('/a', 0, k)), url('/a', 1, 0),
        ...Array.from({ length: 30 }, (_, k) => url('/b', 1, k)),
        ...crowd.flatMap((u) => [url(u, 1, 0), url(u, 1, 1)]),
      ];
      records.push(...alerts);
      await store.storeAlerts(alerts);
      const range = { from: first, to: first + 2 * DAY };
      for (const bucket of [HOUR, 6 * HOUR]) {
        const top = async (limit: number): Promise<Array<[string, number, Array<[number, number]>]>> =>
          (await store.topTimelines('private', 'urls', range, bucket, limit)).map((t) => [t.key, t.total, [...t.buckets]]);
        const onDay = (day: number): number => first + day * DAY + (bucket === HOUR ? HOUR : 0);
        assert.deepEqual(await top(1), [['/a', 30, [[onDay(0), 29], [onDay(1), 1]]]]);
        assert.deepEqual(await top(3), [['/a', 30, [[onDay(0), 29], [onDay(1), 1]]], ['/b', 30, [[onDay(1), 30]]], ['/crowd-00', 2, [[onDay(1), 2]]]]);
      }
    });

    test('top locations stay exact when a crowded day hides a location that ties the top', async () => {
      // As the URLs above, by createTime: a day's list of its top 50 misses A's last alert.
      const first = Math.floor(now / DAY) * DAY - 19 * DAY;
      const at = dailyAlert('crowded-locations', first, (location) => ({ location }));
      const [a, b] = ['10.5 , 10.5', '11.5 , 11.5'];
      const crowd = Array.from({ length: 60 }, (_, i) => `20.5 , ${i}.5`);
      const alerts = [
        ...Array.from({ length: 29 }, (_, k) => at(a, 0, k)), at(a, 1, 0),
        ...Array.from({ length: 30 }, (_, k) => at(b, 1, k)),
        ...crowd.flatMap((l) => [at(l, 1, 0), at(l, 1, 1)]),
      ];
      records.push(...alerts);
      await store.storeAlerts(alerts);
      const range = { from: first, to: first + 2 * DAY };
      const top = async (limit: number): Promise<Array<[string, number]>> =>
        (await store.topLocationsCreated('private', range, 'source', limit)).map((l) => [l.key, l.count]);
      assert.deepEqual(await top(1), [[a, 30]]);
      assert.deepEqual(await top(3), [[a, 30], [b, 30], ['20.5 , 0.5', 2]]);
    });

    test('top keys stay exact when a key that is never heavy in one bucket beats one heavy in a single bucket', async () => {
      // skewedPorts(): per hour 40 x 60001, 30 x 60002, 15 x 60003 (never 16 or more), plus 100 x
      // 60004 in a single hour. Over 24 hourly buckets 60003 (345) beats 60004 (100).
      const to = Math.ceil((now + 1000) / HOUR) * HOUR;
      const range = { from: to - 24 * HOUR, to };
      const top = async (limit: number): Promise<Array<[string, number]>> =>
        (await store.topTimelines('private', 'destports', range, HOUR, limit)).map((t) => [t.key, t.total]);
      assert.deepEqual(await top(3), [['60001', 920], ['60002', 690], ['60003', 345]]);
      assert.deepEqual(await top(2), [['60001', 920], ['60002', 690]]);
      assert.deepEqual(await top(4), [['60001', 920], ['60002', 690], ['60003', 345], ['60004', 100]]);
    });

    test('top locations stay exact when a location that is never heavy in one hour beats one heavy in a single hour', async () => {
      const range = { from: now - DAY + 1000, to: now + 1000 };
      const top = async (limit: number): Promise<Array<[string, number]>> =>
        (await store.topLocationsCreated('private', range, 'source', limit)).map((l) => [l.key, l.count]);
      assert.deepEqual(await top(2), [['1.0 , 1.0', 1380], ['2.0 , 2.0', 1150]]);
      assert.deepEqual(await top(3), [['1.0 , 1.0', 1380], ['2.0 , 2.0', 1150], ['3.0 , 3.0', 713]]);
      assert.deepEqual(await top(4), [['1.0 , 1.0', 1380], ['2.0 , 2.0', 1150], ['3.0 , 3.0', 713], ['4.0 , 4.0', 200]]);
    });

    test('the activity summary of a finished day follows alerts that arrive for that day later', async () => {
      const day = { from: Math.floor(now / DAY) * DAY - DAY, to: Math.floor(now / DAY) * DAY };
      const first = await store.activitySummary('community', day);
      assert.deepEqual(await store.activitySummary('community', day), first, 'asked again');
      // An import of an old alert (received that day) from a sensor nobody saw before.
      const late = alertRecord({ recievedTime: formatUtc(day.from + 3600_000), createTime: formatUtc(day.from + 3600_000),
        clientDomain: true, hostname: 'late-sensor', peerType: 'Webpage' }, createHash('md5').update('late-import').digest('hex'));
      records.push(late);
      await store.storeAlerts([late]);
      const second = await store.activitySummary('community', day);
      assert.equal(second.total.alerts, first.total.alerts + 1);
      assert.equal(second.total.honeypots, first.total.honeypots + 1);
      assert.equal(second.perType.get('Webpage')?.honeypots, (first.perType.get('Webpage')?.honeypots ?? 0) + 1);
    });

    test('newest lists and bad-IP sources come from the raw alerts', async () => {
      const newest = await store.newestReceived('community', 5);
      const expected = records.filter((r) => r.document.clientDomain).map((r) => r.document.recievedTime).sort().reverse().slice(0, 5);
      assert.deepEqual(newest.map((a) => a.document.recievedTime), expected);
      const source = records[42]!.document.sourceEntryIp;
      const fromSource = await store.newestFromSource('both', source, 1000);
      assert.equal(fromSource.length, records.filter((r) => r.document.sourceEntryIp === source).length);
      assert.ok(fromSource.every((a, i) => i === 0 || fromSource[i - 1]!.document.createTime >= a.document.createTime));
      const window = { from: now - 2 * HOUR, to: now + 1000 };
      const sources = await store.sourcesReceived('private', window);
      assert.deepEqual(new Map(sources.map((s) => [s.key, s.count])),
        tally(records.filter((r) => !r.document.clientDomain && within(r.document.recievedTime, window.from, window.to)).map((r) => r.document.sourceEntryIp)));
    });

    test('the newest alerts of a source are the oracle\'s, for random sources, limits and scopes, also when a past day holds the newest', async () => {
      const newestOf = (source: string, scope: DomainScope, limit: number): string[] => records
        .filter((r) => r.document.sourceEntryIp === source && inScope(r.document, scope))
        .map((r) => r.document.createTime).sort().reverse().slice(0, limit);
      const check = async (label: string): Promise<void> => {
        for (let round = 0; round < 12; round++) {
          const source = `81.2.69.${142 + Math.floor(next() * 21)}`;
          const scope = (['community', 'private', 'both'] as const)[round % 3]!;
          const limit = [1, 5, 20, 400][Math.floor(next() * 4)]!;
          const alerts = await store.newestFromSource(scope, source, limit);
          assert.deepEqual(alerts.map((a) => a.document.createTime), newestOf(source, scope, limit), `${label}: ${source}, ${scope}, ${limit}`);
          assert.ok(alerts.every((a) => a.document.sourceEntryIp === source && inScope(a.document, scope)));
        }
      };
      await check('as stored');
      // A sensor whose clock runs an hour ahead, received two days ago: its alert is the newest of its source.
      const received = formatUtc(Math.floor(now / DAY) * DAY - 2 * DAY + 3600_000);
      const ahead = alertRecord({ recievedTime: received, createTime: formatUtc(now + 3600_000), clientDomain: true, sourceEntryIp: '81.2.69.150' },
        createHash('md5').update('clock-ahead').digest('hex'));
      records.push(ahead);
      await store.storeAlerts([ahead]);
      assert.equal((await store.newestFromSource('community', '81.2.69.150', 5))[0]?.id, ahead.id);
      await check('after the alert from a clock ahead');
    });

    test('newest lists reach back over several days, past days without alerts, newest first', async () => {
      const today = formatUtc(Math.floor(now / DAY) * DAY);
      for (const scope of ['community', 'private', 'both'] as const) {
        // Private alerts also lie 5-11 days back with empty days between (the top-timeline cases above).
        const times = records.filter((r) => inScope(r.document, scope)).map((r) => r.document.recievedTime).sort().reverse();
        const todays = times.filter((t) => t >= today).length;
        const recent = times.filter((t) => t >= formatUtc(Math.floor(now / DAY) * DAY - 3 * DAY)).length;
        // Exactly today's, into yesterday, and past the last three days (for private alerts across
        // empty days; at most the 10,000 hits a search engine answers).
        for (const limit of [todays, todays + 40, Math.min(recent + 10, times.length + 5)].filter((n) => n > 0)) {
          const newest = await store.newestReceived(scope, limit);
          assert.deepEqual(newest.map((a) => a.document.recievedTime), times.slice(0, limit), `${scope}, newest ${limit}`);
          assert.equal(new Set(newest.map((a) => a.id)).size, newest.length, `${scope}, newest ${limit}: each alert once`);
          assert.ok(newest.every((a) => inScope(a.document, scope)));
        }
      }
    });

    test('answers kept between questions stay exact while windows move, alerts arrive late, another instance writes and retention deletes', async () => {
      const scopes = ['community', 'private', 'both'] as const;
      /**
       * Bad-IP sources over the 2 hours before `to`; top locations by createTime and top ports by
       * recievedTime over the 24 hours before it.
       */
      const check = async (to: number, label: string, { statistics = true } = {}): Promise<void> => {
        const window = { from: to - 2 * HOUR, to };
        for (const scope of scopes) {
          const sources = await store.sourcesReceived(scope, window);
          assert.equal(new Set(sources.map((s) => s.key)).size, sources.length, `${label}: each source once`);
          const expected = records.filter((r) => inScope(r.document, scope) && within(r.document.recievedTime, window.from, window.to));
          assert.deepEqual(new Map(sources.map((s) => [s.key, s.count])), tally(expected.map((r) => r.document.sourceEntryIp)),
            `${label}, ${scope}, sources in the 2 h before ${new Date(to).toISOString()}`);
          if (!statistics) continue;
          const day = { from: to - DAY, to };
          const received = records.filter((r) => inScope(r.document, scope) && within(r.document.recievedTime, day.from, day.to));
          const ports = await store.topTimelines(scope, 'destports', day, HOUR, 1000);
          assert.deepEqual(new Map(ports.map((t) => [t.key, t.total])), tally(received.map((r) => r.document.targetEntryPort)),
            `${label}, ${scope}, ports received in the 24 h before ${new Date(to).toISOString()}`);
          const created = records.filter((r) => inScope(r.document, scope) && within(r.document.createTime, day.from, day.to));
          for (const side of ['source', 'target'] as const) {
            const top = await store.topLocationsCreated(scope, day, side, 1000);
            assert.deepEqual(new Map(top.map((l) => [l.key, l.count])),
              tally(created.map((r) => (side === 'source' ? r.document.location : r.document.locationDestination))),
              `${label}, ${scope}, ${side} locations in the 24 h before ${new Date(to).toISOString()}`);
          }
        }
      };
      let serial = 0;
      /**
       * Alerts received at random seconds of [from, to), created up to a day before, some from
       * sources and locations no other record has.
       */
      const arriving = (from: number, to: number, n: number): AlertRecord[] => Array.from({ length: n }, () => {
        const received = from + Math.floor(next() * (to - from));
        return alertRecord({
          recievedTime: formatUtc(received),
          createTime: formatUtc(received - Math.floor(next() * DAY)),
          clientDomain: next() < 0.5,
          sourceEntryIp: next() < 0.7 ? `81.2.69.${142 + Math.floor(next() * 20)}` : `89.160.20.${Math.floor(next() * 100)}`,
          location: next() < 0.7 ? COUNTRIES[Math.floor(next() * COUNTRIES.length)]![2] : `${Math.floor(next() * 9)}.25 , 7.5`,
          locationDestination: next() < 0.7 ? COUNTRIES[Math.floor(next() * COUNTRIES.length)]![2] : `7.5 , ${Math.floor(next() * 9)}.25`,
          targetEntryPort: String(63000 + Math.floor(next() * 4)),
        }, createHash('md5').update(`moving-window-${serial++}`).digest('hex'));
      });
      const storeAll = async (via: AlertStore, arrived: AlertRecord[]): Promise<void> => {
        await via.storeAlerts(arrived);
        records.push(...arrived);
      };

      let to = now - 30 * HOUR;
      for (let step = 0; step < 40; step++) {
        // Steps of up to 2.5 minutes, at fractions of a second: whole minutes enter and leave.
        to += Math.floor(next() * 150_000) + 1;
        await check(to, `step ${step}`);
        // Into minutes and buckets already counted, into the edges and ahead of the windows.
        const arrived = arriving(to - 2 * HOUR - 5 * 60_000, to + 5 * 60_000, 1 + Math.floor(next() * 6));
        // And received around the tail of the 24-hour window (an import of old alerts).
        arrived.push(...arriving(to - DAY - 15 * 60_000, to - DAY + 15 * 60_000, 1 + Math.floor(next() * 3)));
        await storeAll(store, arrived);
        await store.storeAlerts(arrived);
        await check(to, `step ${step}, after late alerts and their resubmission`);
      }
      // Windows ending in the last hour, whose edges reach buckets that are not settled yet.
      for (let k = 0; k <= 12; k++) await check(now + 1000 - k * 7 * 60_000, `${k * 7} minutes ago`);
      await check(to - 3 * HOUR, 'back in time');
      await check(to, 'forward again');
      await check(to + 5 * HOUR, 'a jump past the whole window');

      const other = await open();
      try {
        await check(to, 'before another instance writes');
        // Received in the bad-IP window, created every 5 minutes of the locations window's edge hours.
        const edges = Array.from({ length: 24 }, (_, k) => (k < 12 ? to - DAY : to - HOUR) + (k % 12) * 300_000);
        await storeAll(other, arriving(to - 2 * HOUR, to, 24).map((record, k) => (
          { ...record, document: { ...record.document, createTime: formatUtc(edges[k]!) } })));
        await check(to, 'after another instance wrote');
      } finally {
        await other.close();
      }

      const cutoff = to - HOUR - 17_500;
      await store.deleteReceivedBefore(cutoff);
      records.splice(0, records.length, ...records.filter((r) => parseUtc(r.document.recievedTime) >= cutoff));
      // Sources only: statistics keep counting deleted alerts in their aggregates, by design.
      await check(to, 'after retention deleted the older half of the window', { statistics: false });
    });

    test('sensors of a range: alerts, newest alert and classes per sensor equal a naive reading', async () => {
      const sensorOf = (doc: AlertDocument): string => (doc.hostname !== '' && doc.hostname !== 'undefined' ? doc.hostname : doc.targetEntryIp);
      for (const [scope, range] of [['community', { from: now - DAY + 17_000, to: now + 1000 }], ['both', { from: now - HOUR, to: now + 1000 }]] as const) {
        const expected = new Map<string, { alerts: number; lastReceived: string; peerTypes: Set<string> }>();
        for (const { document: doc } of records) {
          if (!inScope(doc, scope) || !within(doc.recievedTime, range.from, range.to)) continue;
          const entry = expected.get(sensorOf(doc)) ?? { alerts: 0, lastReceived: '', peerTypes: new Set<string>() };
          entry.alerts++;
          if (doc.recievedTime > entry.lastReceived) entry.lastReceived = doc.recievedTime;
          entry.peerTypes.add(doc.peerType);
          expected.set(sensorOf(doc), entry);
        }
        const reports = await store.sensorsReceived(scope, range);
        assert.ok(reports.length > 1, `${scope}: several sensors`);
        assert.deepEqual(new Map(reports.map((r) => [r.sensor, { alerts: r.alerts, lastReceived: r.lastReceived, peerTypes: [...r.peerTypes] }])),
          new Map([...expected].map(([sensor, e]) => [sensor, { alerts: e.alerts, lastReceived: e.lastReceived, peerTypes: [...e.peerTypes].sort() }])));
      }
    });

    test('alerts stored after a cursor: each new alert once, in storing order, from any instance sharing the store', async () => {
      const start = await store.alertsStoredAfter(null, 10);
      assert.deepEqual(start.alerts, [], 'a reader starting now sees nothing already stored');
      const fresh = (label: string, count: number, domain = true): AlertRecord[] => Array.from({ length: count }, (_, k) => alertRecord(
        { recievedTime: formatUtc(now), createTime: formatUtc(now), clientDomain: domain || k % 2 === 0, originalRequestString: `/arrival/${label}/${k}` },
        createHash('md5').update(`arrival-${label}-${k}`).digest('hex')));
      const first = fresh('a', 5, false);
      await store.storeAlerts(first);
      await store.storeAlerts(first); // a resubmission is no arrival
      const second = fresh('b', 3);
      await store.storeAlerts(second);
      const page = await store.alertsStoredAfter(start.cursor, 6);
      assert.deepEqual(page.alerts.map((a) => a.id), [...first, ...second].slice(0, 6).map((r) => r.id));
      assert.deepEqual(page.alerts[0]!.document, first[0]!.document);
      const rest = await store.alertsStoredAfter(page.cursor, 100);
      assert.deepEqual(rest.alerts.map((a) => a.id), second.slice(1).map((r) => r.id));
      const idle = await store.alertsStoredAfter(rest.cursor, 100);
      assert.deepEqual(idle.alerts, []);
      assert.deepEqual((await store.alertsStoredAfter(idle.cursor, 100)).alerts, [], 'an idle cursor stays put');
      const fromNow = await store.alertsStoredAfter(null, 100);
      assert.deepEqual(fromNow.alerts, []);
      const third = fresh('c', 2);
      const other = await open();
      try {
        await other.storeAlerts(third);
      } finally {
        await other.close();
      }
      assert.deepEqual((await store.alertsStoredAfter(fromNow.cursor, 100)).alerts.map((a) => a.id), third.map((r) => r.id));
      assert.deepEqual((await store.alertsStoredAfter(idle.cursor, 100)).alerts.map((a) => a.id), third.map((r) => r.id));
      records.push(...first, ...second, ...third);
    });

    test('firewall feed sources: every filter against a naive count', async () => {
      // Sources of both families, seen by one to four sensors, over the last two hours.
      const extra: AlertRecord[] = [];
      for (let i = 0; i < 600; i++) {
        const received = now - Math.floor(next() * 2 * HOUR / 1000) * 1000;
        const peerType = PEER_TYPES[Math.floor(next() * PEER_TYPES.length)]!;
        extra.push(alertRecord({
          recievedTime: formatUtc(received),
          createTime: formatUtc(received),
          clientDomain: next() < 0.7,
          peerType,
          peerIdent: `feed-sensor-${Math.floor(next() * 4)}`,
          sourceEntryIp: next() < 0.3 ? `2001:db8::${Math.floor(next() * 8).toString(16)}` : `198.51.100.${Math.floor(next() * 12)}`,
        }, createHash('md5').update(`feed-${i}`).digest('hex')));
      }
      await store.storeAlerts(extra);
      records.push(...extra);
      let listed = 0;
      let sawIpv6SeenTwice = false;
      for (let i = 0; i < 40; i++) {
        const minutes = [15, 30, 60, 120, 7 * 24 * 60][i % 5]!;
        const to = now + 1000 - Math.floor(next() * 30) * 60_000;
        const query = {
          range: { from: to - minutes * 60_000, to },
          peerTypes: i % 3 === 0 ? [] : PEER_TYPES.filter(() => next() < 0.5),
          family: ([undefined, 4, 6] as const)[i % 3],
          minAlerts: 1 + Math.floor(next() * 6),
          minSensors: 1 + Math.floor(next() * 3),
        };
        const scope = (['community', 'private', 'both'] as const)[Math.floor(next() * 3)]!;
        const expected = naiveActivity(records, scope, query);
        assert.deepEqual(await store.sourceActivity(scope, query), expected, `${scope} ${JSON.stringify(query)}`);
        listed += expected.length;
        if (expected.some((s) => s.address.includes(':') && s.sensors > 1)) sawIpv6SeenTwice = true;
      }
      // The random questions did list sources, IPv6 among them: the comparison was not of empty lists.
      assert.ok(listed > 100 && sawIpv6SeenTwice, `${listed} sources listed`);
    });

    test('firewall feed sources over long windows: naive counts through late and imported alerts, another writer and retention', async () => {
      let serial = 0;
      /** n alerts received at random seconds of [from, to): few sources and sensors, so hours and sensors repeat per source. */
      const arriving = (from: number, to: number, n: number): AlertRecord[] => Array.from({ length: n }, () => {
        const received = from + Math.floor(next() * (to - from));
        const peerType = PEER_TYPES[Math.floor(next() * PEER_TYPES.length)]!;
        return alertRecord({
          recievedTime: formatUtc(received),
          createTime: formatUtc(received - Math.floor(next() * HOUR)),
          clientDomain: next() < 0.6,
          peerType,
          // Sensor names are the sender's text: commas and escapes in them are names like any other.
          peerIdent: ['long-sensor', 'long,sensor', 'long%2Csensor'][Math.floor(next() * 3)]!,
          sourceEntryIp: next() < 0.25 ? `2001:db8::1:${Math.floor(next() * 4).toString(16)}` : `203.0.113.${Math.floor(next() * 10)}`,
        }, createHash('md5').update(`feed-long-${serial++}`).digest('hex'));
      });
      const storeAll = async (via: AlertStore, arrived: AlertRecord[]): Promise<void> => {
        await via.storeAlerts(arrived);
        records.push(...arrived);
      };
      let compared = 0;
      const check = async (label: string): Promise<void> => {
        for (let i = 0; i < 6; i++) {
          // 1 to 7 days ending up to 2 hours ago, at a fraction of a second: both edges cut into hours.
          const to = now + 1000 - Math.floor(next() * 2 * HOUR);
          const minutes = [24 * 60, 7 * 24 * 60, 60 * (1 + Math.floor(next() * 167))][i % 3]!;
          const query: SourceActivityQuery = {
            range: { from: to - minutes * 60_000 + Math.floor(next() * 1000), to },
            peerTypes: i % 2 === 0 ? [] : PEER_TYPES.filter(() => next() < 0.5),
            family: ([undefined, 4, 6] as const)[i % 3],
            minAlerts: 1 + Math.floor(next() * 4),
            minSensors: 1 + Math.floor(next() * 3),
          };
          const scope = (['community', 'private', 'both'] as const)[i % 3]!;
          const expected = naiveActivity(records, scope, query);
          assert.deepEqual(await store.sourceActivity(scope, query), expected, `${label}: ${scope} ${JSON.stringify(query)}`);
          compared += expected.length;
        }
      };
      await storeAll(store, arriving(now - 7 * DAY, now, 1500));
      await check('spread over the week');
      for (let step = 0; step < 4; step++) {
        // Late: into the hours just counted; imported: received days ago.
        await storeAll(store, arriving(now - 3 * HOUR, now, 40));
        await storeAll(store, arriving(now - 7 * DAY, now - DAY, 40));
        await check(`after late and imported alerts, step ${step}`);
      }
      const other = await open();
      try {
        await storeAll(other, arriving(now - 6 * DAY, now, 60));
      } finally {
        await other.close();
      }
      await check('after another instance wrote');
      // Retention cuts into an hour: what is left of it must still count exactly.
      const cutoff = now - 4 * DAY - 23 * 60_000 - 17_500;
      await store.deleteReceivedBefore(cutoff);
      records.splice(0, records.length, ...records.filter((r) => parseUtc(r.document.recievedTime) >= cutoff));
      await check('after retention');
      await storeAll(store, arriving(cutoff - HOUR, cutoff + HOUR, 30));
      await check('after alerts imported around the cut');
      assert.ok(compared > 300, `${compared} sources compared`);
    });

    test('firewall feed sources: a window moving hour by hour stays exact through late alerts, another writer and retention', async () => {
      let serial = 0;
      const arriving = (from: number, to: number, n: number): AlertRecord[] => Array.from({ length: n }, () => {
        const received = from + Math.floor(next() * (to - from));
        const peerType = PEER_TYPES[Math.floor(next() * PEER_TYPES.length)]!;
        return alertRecord({
          recievedTime: formatUtc(received), createTime: formatUtc(received), clientDomain: next() < 0.5, peerType,
          peerIdent: `moving-sensor-${Math.floor(next() * 3)}`,
          sourceEntryIp: next() < 0.2 ? `2001:db8::2:${Math.floor(next() * 3).toString(16)}` : `192.0.2.${Math.floor(next() * 8)}`,
        }, createHash('md5').update(`feed-moving-${serial++}`).digest('hex'));
      });
      const storeAll = async (via: AlertStore, arrived: AlertRecord[]): Promise<void> => {
        await via.storeAlerts(arrived);
        records.push(...arrived);
      };
      await storeAll(store, arriving(now - 4 * DAY, now, 800));
      // The questions' clock: 40 hours ago, moving on by an hour (and a few seconds) a step,
      // so the window's whole hours move on while most of them stay kept.
      const shapes: Array<Omit<SourceActivityQuery, 'range'> & { scope: DomainScope; minutes: number }> = [
        { scope: 'both', minutes: 2 * 24 * 60, peerTypes: [], minAlerts: 1, minSensors: 1 },
        { scope: 'private', minutes: 30 * 60, peerTypes: [PEER_TYPES[0]!, PEER_TYPES[3]!], family: 4, minAlerts: 2, minSensors: 1 },
        { scope: 'community', minutes: 24 * 60 + 17, peerTypes: [], family: 6, minAlerts: 1, minSensors: 2 },
      ];
      let compared = 0;
      const check = async (clock: number, label: string): Promise<void> => {
        for (const { scope, minutes, ...conditions } of shapes) {
          const query: SourceActivityQuery = { ...conditions, range: { from: clock - minutes * 60_000, to: clock } };
          const expected = naiveActivity(records, scope, query);
          assert.deepEqual(await store.sourceActivity(scope, query), expected, `${label}: ${scope} ${JSON.stringify(query)}`);
          compared += expected.length;
        }
      };
      const other = await open();
      try {
        for (let step = 0; step <= 40; step++) {
          const clock = now - 40 * HOUR + step * (HOUR + 7_000) + 1000;
          await check(clock, `step ${step}`);
          // Late alerts into the window's kept hours, from this instance and from another one.
          await storeAll(step % 2 === 0 ? store : other, arriving(clock - 20 * HOUR, clock - HOUR, 5));
          await check(clock, `step ${step}, after late alerts`);
          if (step === 25) {
            // Retention cuts into the window's kept hours.
            const cutoff = clock - 23 * HOUR - 12 * 60_000;
            await store.deleteReceivedBefore(cutoff);
            records.splice(0, records.length, ...records.filter((r) => parseUtc(r.document.recievedTime) >= cutoff));
            await check(clock, `step ${step}, after retention`);
            // An import puts alerts back before the cut: days whose storage retention removed whole.
            await storeAll(other, arriving(cutoff - 20 * HOUR, cutoff, 30));
            await check(clock, `step ${step}, after an import before the cut`);
          }
          if (step === 32) {
            // Retention, then an import before the cut, with no question between: storage a
            // question counted is gone and another one holds alerts under the same days.
            const cutoff = clock - 22 * HOUR;
            await store.deleteReceivedBefore(cutoff);
            records.splice(0, records.length, ...records.filter((r) => parseUtc(r.document.recievedTime) >= cutoff));
            await storeAll(other, arriving(cutoff - 30 * HOUR, cutoff, 60));
            await check(clock, `step ${step}, after retention and an import before the cut`);
          }
        }
      } finally {
        await other.close();
      }
      assert.ok(compared > 500, `${compared} sources compared`);
    });

    test('a periodic job run is claimed by exactly one of the instances sharing the store', async () => {
      const other = await open();
      try {
        const claims = await Promise.all([store, other, store, other].map((s) => s.claimRun('statistics', '2026-11-27 10:00:00')));
        assert.deepEqual(claims.filter(Boolean).length, 1, `claims ${JSON.stringify(claims)}`);
        assert.equal(await other.claimRun('statistics', '2026-11-27 11:00:00'), true, 'the next slot is free');
        assert.equal(await store.claimRun('retention', '2026-11-27 10:00:00'), true, 'another job, the same slot');
        assert.equal(await store.claimRun('retention', '2026-11-27 10:00:00'), false);
      } finally {
        await other.close();
      }
    });

    test('users: put, get, replace, list, remove', async () => {
      const user = { peerName: 'contract-user', tokenHash: 'a'.repeat(128), community: false, getOnly: true, email: 'x@example.org' };
      await store.putUser(user);
      assert.deepEqual(await store.getUser('contract-user'), user);
      await store.putUser({ ...user, getOnly: false });
      assert.equal((await store.getUser('contract-user'))?.getOnly, false);
      assert.ok((await store.listUsers()).some((u) => u.peerName === 'contract-user'));
      assert.equal(await store.removeUser('contract-user'), true);
      assert.equal(await store.removeUser('contract-user'), false);
      assert.equal(await store.getUser('contract-user'), undefined);
    });
  });
}
