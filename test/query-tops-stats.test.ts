/**
 * `/alert/tops` (top URLs of Webpage alerts or destination ports by recievedTime, with a
 * timeline of UTC buckets) and `/alert/getStats` (statistics snapshots keyed by UTCtimeFrom),
 * CONTRACT sections 4 and 6. Expectations are written out by hand.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alertRecord, alertRecords, at, awayFromGridLine, fetchText, useApp, useFrozenDate, type GroupApp } from './helpers';

// Windows are checked to the second: the test and the server must see the same now.
useFrozenDate();
import { formatUtc } from '../src/domain/time';
import type { AlertDocument } from '../src/domain/alert';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SSH = 'SSH/console(cowrie)';

/** A Webpage alert for `url` on port 80. */
const web = (url: string, extra: Partial<AlertDocument> = {}): Partial<AlertDocument> => ({
  peerType: 'Webpage', peerIdent: 'glastopf-01', originalRequestString: url, targetEntryPort: '80', ...extra,
});

/**
 * The expected timeline: `total` first, then every bucket start from `from` on, `buckets` of
 * `size`, zero unless `counts` says otherwise.
 */
function timeline(from: number, size: number, buckets: number, counts: Record<number, number>): Record<string, number> {
  const entry: Record<string, number> = {};
  let total = 0;
  for (const n of Object.values(counts)) total += n;
  entry['total'] = total;
  for (let i = 0; i < buckets; i++) entry[formatUtc(from + i * size)] = counts[from + i * size] ?? 0;
  return entry;
}

async function tops(app: GroupApp, query: string): Promise<Record<string, Record<string, number>>> {
  return await app.get(`/alert/tops?${query}`) as Record<string, Record<string, number>>;
}

describe('tops?days=1: the last 24 hours in 25 hourly buckets, from the hour holding now-24h to the current one', () => {
  const app = useApp();
  let hour = 0;
  let first = 0;
  let edgeIn = 0;

  before(async () => {
    await awayFromGridLine(HOUR, 5000);
    const now = Date.now();
    hour = Math.floor(now / HOUR) * HOUR;
    first = hour - 24 * HOUR;
    // 30 s after now-24h: inside (the server's now is a little later than this one).
    edgeIn = now - DAY + 30 * SECOND;
    await app.store([
      ...alertRecords(3, { ...at(now), ...web('/index.php') }),
      alertRecord({ ...at(edgeIn), ...web('/index.php') }),
      // By recievedTime: created ten days ago.
      ...alertRecords(2, { createTime: formatUtc(now - 10 * DAY), recievedTime: formatUtc(hour - 5 * HOUR + 30 * MINUTE), ...web('/admin') }),
      // A second before now-24h: outside, though its hour is the first bucket shown.
      ...alertRecords(4, { ...at(now - DAY - SECOND), ...web('/old') }),
      // Not Webpage: never a URL, but its port counts.
      ...alertRecords(5, { ...at(now), peerType: SSH, originalRequestString: '/index.php', targetEntryPort: '22' }),
      // Private.
      alertRecord({ ...at(now), ...web('/private'), clientDomain: false, targetEntryPort: '8080' }),
    ]);
  });

  const bucketOf = (time: number): number => Math.floor(time / HOUR) * HOUR;

  it('type=urls: Webpage alerts only, keyed by originalRequestString, total and 25 hourly buckets incl. zeros', async () => {
    const body = await tops(app, 'type=urls&topx=5&days=1');
    assert.deepEqual(body, {
      '/index.php': timeline(first, HOUR, 25, { [bucketOf(edgeIn)]: 1, [hour]: 3 }),
      '/admin': timeline(first, HOUR, 25, { [hour - 5 * HOUR]: 2 }),
    });
    for (const entry of Object.values(body)) {
      const keys = Object.keys(entry);
      assert.equal(keys.length, 26);
      assert.equal(keys[0], 'total');
      assert.equal(keys[1], formatUtc(first));
      assert.equal(keys[25], formatUtc(hour));
      for (const key of keys.slice(1)) assert.match(key, /^\d{4}-\d{2}-\d{2} \d{2}:00:00$/);
      assert.deepEqual(keys.slice(1), [...keys.slice(1)].sort());
    }
  });

  it('most first, topx limits', async () => {
    const reply = await fetchText(`${app.running.url}/alert/tops?type=urls&topx=5&days=1`);
    assert.ok(reply.text.indexOf('"/index.php"') < reply.text.indexOf('"/admin"'), reply.text);
    assert.deepEqual(Object.keys(await tops(app, 'type=urls&topx=1&days=1')), ['/index.php']);
    assert.deepEqual(Object.keys(await tops(app, 'type=urls&topx=30&days=1')).sort(), ['/admin', '/index.php']);
  });

  it('type=destports: every peerType, keyed by targetEntryPort', async () => {
    assert.deepEqual(await tops(app, 'type=destports&topx=10&days=1'), {
      80: timeline(first, HOUR, 25, { [bucketOf(edgeIn)]: 1, [hour - 5 * HOUR]: 2, [hour]: 3 }),
      22: timeline(first, HOUR, 25, { [hour]: 5 }),
    });
    assert.deepEqual(Object.keys(await tops(app, 'type=destports&topx=1&days=1')), ['80']);
  });

  it('ci=0 private only, ci=-1 both', async () => {
    assert.deepEqual(await tops(app, 'type=urls&topx=5&days=1&ci=0'), { '/private': timeline(first, HOUR, 25, { [hour]: 1 }) });
    assert.deepEqual(Object.keys(await tops(app, 'type=urls&topx=5&days=1&ci=-1')).sort(), ['/admin', '/index.php', '/private']);
    assert.deepEqual(Object.keys(await tops(app, 'type=destports&topx=5&days=1&ci=0')), ['8080']);
  });

  it('days absent or not a whole number counts as days=1, as the original; another number is Nope', async () => {
    const oneDay = await tops(app, 'type=urls&topx=5&days=1');
    for (const days of ['', '&days=', '&days=abc', '&days=7.0', '&days=1x']) {
      assert.deepEqual(await tops(app, `type=urls&topx=5${days}`), oneDay, days);
    }
    // A whole number the way Python's int() reads it.
    assert.deepEqual(Object.keys((await tops(app, 'type=urls&topx=5&days=+7'))['/index.php']!).length, Object.keys((await tops(app, 'type=urls&topx=5&days=7'))['/index.php']!).length);
    for (const days of ['2', '0', '-1', '29', '%2B2']) {
      const reply = await fetchText(`${app.running.url}/alert/tops?type=urls&topx=5&days=${days}`);
      assert.equal(reply.text, 'Nope', days);
    }
  });
});

describe('tops?days=7: six-hourly buckets on the UTC grid from 00:00 six days ago to the current one', () => {
  const app = useApp();
  let last = 0;
  let from = 0;
  let buckets = 0;

  before(async () => {
    await awayFromGridLine(6 * HOUR, 5000);
    const now = Date.now();
    last = Math.floor(now / (6 * HOUR)) * 6 * HOUR;
    from = Math.floor(now / DAY) * DAY - 6 * DAY;
    buckets = (last - from) / (6 * HOUR) + 1;
    await app.store([
      alertRecord({ ...at(from), ...web('/a') }),
      alertRecord({ ...at(from - SECOND), ...web('/a') }),
      ...alertRecords(2, { ...at(from + 10 * 6 * HOUR + 6 * HOUR - SECOND), ...web('/a') }),
      alertRecord({ ...at(now), ...web('/a') }),
      alertRecord({ ...at(now), ...web('/b', { targetEntryPort: '8080' }) }),
    ]);
  });

  it('bucket starts at 00, 06, 12 and 18 UTC, the first at 00:00 six days ago (25 to 28 buckets)', async () => {
    assert.ok(buckets >= 25 && buckets <= 28, String(buckets));
    assert.deepEqual(await tops(app, 'type=urls&topx=10&days=7'), {
      '/a': timeline(from, 6 * HOUR, buckets, { [from]: 1, [from + 10 * 6 * HOUR]: 2, [last]: 1 }),
      '/b': timeline(from, 6 * HOUR, buckets, { [last]: 1 }),
    });
    const keys = Object.keys((await tops(app, 'type=urls&topx=10&days=7'))['/a']!).slice(1);
    for (const key of keys) assert.match(key, /^\d{4}-\d{2}-\d{2} (00|06|12|18):00:00$/);
  });

  it('destports over 7 days', async () => {
    assert.deepEqual(await tops(app, 'type=destports&topx=10&days=7'), {
      80: timeline(from, 6 * HOUR, buckets, { [from]: 1, [from + 10 * 6 * HOUR]: 2, [last]: 1 }),
      8080: timeline(from, 6 * HOUR, buckets, { [last]: 1 }),
    });
  });
});

describe('tops?days=28: 28 daily buckets up to now', () => {
  const app = useApp();
  let today = 0;
  let from = 0;

  before(async () => {
    await awayFromGridLine(DAY, 5000);
    const now = Date.now();
    today = Math.floor(now / DAY) * DAY;
    from = today - 27 * DAY;
    await app.store([
      alertRecord({ ...at(from), ...web('/a') }),
      alertRecord({ ...at(from - SECOND), ...web('/a') }),
      ...alertRecords(3, { ...at(today - SECOND), ...web('/a') }),
      alertRecord({ ...at(today), ...web('/a') }),
      ...alertRecords(6, { ...at(today - 10 * DAY + 7 * HOUR), ...web('/c', { targetEntryPort: '443' }) }),
      // Stamped later than now (another instance's clock, an import): not yet.
      alertRecord({ ...at(Math.min(now + MINUTE, today + DAY - SECOND)), ...web('/later', { targetEntryPort: '8443' }) }),
    ]);
  });

  it('UTC days from 27 days ago to today, zeros included', async () => {
    const body = await tops(app, 'type=urls&topx=10&days=28');
    assert.deepEqual(body, {
      '/c': timeline(from, DAY, 28, { [today - 10 * DAY]: 6 }),
      '/a': timeline(from, DAY, 28, { [from]: 1, [today - DAY]: 3, [today]: 1 }),
    });
    for (const key of Object.keys(body['/a']!).slice(1)) assert.match(key, /^\d{4}-\d{2}-\d{2} 00:00:00$/);
    assert.deepEqual(await tops(app, 'type=destports&topx=10&days=28'), {
      443: timeline(from, DAY, 28, { [today - 10 * DAY]: 6 }),
      80: timeline(from, DAY, 28, { [from]: 1, [today - DAY]: 3, [today]: 1 }),
    });
  });
});

describe('getStats', () => {
  const app = useApp();
  let recent1 = '';
  let recent2 = '';

  before(async () => {
    await awayFromGridLine(HOUR, 5000);
    const now = Date.now();
    const hour = Math.floor(now / HOUR) * HOUR;
    recent1 = formatUtc(hour - 2 * HOUR);
    recent2 = formatUtc(hour - HOUR);
    const put = (from: string, to: string, values: Record<string, number>) => app.running.app.store.putStatisticsSnapshot({ from, to, values });
    await put(recent1, formatUtc(hour - HOUR - SECOND), { comm_totalRatio: 12.5, [`comm_ratio_${SSH}`]: 7.25, 'comm_ratio_Network(Dionaea)': 3 });
    await put(recent2, formatUtc(hour - SECOND), { comm_totalRatio: 10, [`comm_ratio_${SSH}`]: 8, 'comm_ratio_Network(Dionaea)': 2 });
    // Older than 24 hours, and in the future: outside the default window.
    await put(formatUtc(hour - 30 * HOUR), formatUtc(hour - 29 * HOUR - SECOND), { comm_totalRatio: 1 });
    await put(formatUtc(hour + 2 * HOUR), formatUtc(hour + 3 * HOUR - SECOND), { comm_totalRatio: 2 });
    // Fixed past snapshots for explicit windows.
    await put('2019-01-22 14:00:00', '2019-01-22 14:59:59', { comm_totalRatio: 4, 'comm_ratio_Webpage': 1.5 });
    await put('2019-01-22 15:00:00', '2019-01-22 15:59:59', { comm_totalRatio: 5, 'comm_ratio_Webpage': 2.5, [`comm_ratio_${SSH}`]: 6 });
    await put('2019-01-22 16:00:00', '2019-01-22 16:59:59', { comm_totalRatio: 6, 'comm_ratio_Webpage': 3.5, [`comm_ratio_${SSH}`]: 7 });
    await put('2019-01-22 17:00:01', '2019-01-22 17:59:59', { comm_totalRatio: 7 });
  });

  it('defaults: the last 24 hours up to now, keyed by UTCtimeFrom, comm_totalRatio only without values', async () => {
    assert.deepEqual(await app.get('/alert/getStats'), {
      [recent1]: { UTCtimeFrom: recent1, UTCtimeTo: formatUtc(Date.parse(`${recent1.replace(' ', 'T')}Z`) + HOUR - SECOND), comm_totalRatio: 12.5 },
      [recent2]: { UTCtimeFrom: recent2, UTCtimeTo: formatUtc(Date.parse(`${recent2.replace(' ', 'T')}Z`) + HOUR - SECOND), comm_totalRatio: 10 },
    });
  });

  it('gte/lt URL-encoded with + and %3A; values=T1,T2 with SSH%2Fconsole(cowrie)', async () => {
    const body = await app.get('/alert/getStats?values=Webpage,SSH%2Fconsole(cowrie)&gte=2019-01-22+15%3A00%3A00&lt=2019-01-22+16%3A30%3A00');
    assert.deepEqual(body, {
      '2019-01-22 15:00:00': {
        UTCtimeFrom: '2019-01-22 15:00:00', UTCtimeTo: '2019-01-22 15:59:59',
        comm_totalRatio: 5, comm_ratio_Webpage: 2.5, [`comm_ratio_${SSH}`]: 6,
      },
      '2019-01-22 16:00:00': {
        UTCtimeFrom: '2019-01-22 16:00:00', UTCtimeTo: '2019-01-22 16:59:59',
        comm_totalRatio: 6, comm_ratio_Webpage: 3.5, [`comm_ratio_${SSH}`]: 7,
      },
    });
    // %20 for the space works as well; `lt` bounds UTCtimeFrom ([gte, lt]).
    const spaced = await app.get('/alert/getStats?gte=2019-01-22%2014%3A00%3A00&lt=2019-01-22%2017%3A00%3A00') as Record<string, unknown>;
    assert.deepEqual(Object.keys(spaced), ['2019-01-22 14:00:00', '2019-01-22 15:00:00', '2019-01-22 16:00:00']);
  });

  it('the seed spelling value= works too', async () => {
    const body = await app.get('/alert/getStats?value=Webpage&gte=2019-01-22+14%3A00%3A00&lt=2019-01-22+14%3A30%3A00');
    assert.deepEqual(body, {
      '2019-01-22 14:00:00': { UTCtimeFrom: '2019-01-22 14:00:00', UTCtimeTo: '2019-01-22 14:59:59', comm_totalRatio: 4, comm_ratio_Webpage: 1.5 },
    });
  });

  it('every peerType of the seed is a valid T', async () => {
    const seedTypes = [
      'E-Mail(mailoney)', 'Industrial(conpot)', 'Network(cisco-asa)', 'Network(Dionaea)', 'Network(honeytrap)',
      'Network(suricata)', 'Passwords(heralding)', 'RDP(rdpy)', 'SSH/console(cowrie)', 'Service(ES)',
      'Service(emobility)', 'Service(Medicine)', 'VNC(vnclowpot)', 'Webpage', 'Unclassified',
    ];
    const values = seedTypes.map(encodeURIComponent).join(',');
    const body = await app.get(`/alert/getStats?values=${values}&gte=2019-01-22+15%3A00%3A00&lt=2019-01-22+15%3A00%3A00`) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(body), ['2019-01-22 15:00:00']);
    for (const type of seedTypes) assert.equal(typeof body['2019-01-22 15:00:00']![`comm_ratio_${type}`], 'number', type);
  });

  it('valid parameters but no snapshot in the range give DEFAULTRESPONSE, as the original', async () => {
    for (const query of ['values=Webpage&gte=2018-01-01+00%3A00%3A00&lt=2018-01-02+00%3A00%3A00', 'gte=2019-01-22+17%3A30%3A00&lt=2019-01-22+17%3A59%3A59']) {
      const reply = await fetchText(`${app.running.url}/alert/getStats?${query}`);
      assert.equal(reply.status, 200, query);
      assert.equal(reply.text, 'Nope', query);
    }
  });

  it('an invalid T or time gives DEFAULTRESPONSE', async () => {
    for (const query of [
      'values=Bogus',
      'values=SSH%2Fconsole(cowrie),Bogus',
      'values=Webpage&gte=yesterday',
      'gte=2019-01-22+15%3A00%3A00&lt=2019-13-22+15%3A00%3A00',
    ]) {
      const reply = await fetchText(`${app.running.url}/alert/getStats?${query}`);
      assert.equal(reply.status, 200, query);
      assert.equal(reply.text, 'Nope', query);
    }
  });
});
