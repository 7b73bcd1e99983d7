/**
 * Counting endpoints by recievedTime (CONTRACT sections 4 and 6): retrieveAlertsCount,
 * retrieveAlertsCountWithType, retrieveAlertStats; rolling windows that cut through minutes
 * and hours, `time=day`, the `ci` domain, idempotent aggregates, and a few end-to-end checks
 * through the ingest endpoint. Alerts are stored directly with hand-chosen times; every
 * expectation below is written out by hand.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addPrivateUser, alertRecord, alertRecords, alertXml, at, awayFromGridLine, ewsMessage, fetchText,
  OK_REPLY, postMessage, useApp, useFrozenDate, type GroupApp,
} from './helpers';
import { formatUtc } from '../src/domain/time';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Windows are checked to the second: the test and the server must see the same now.
useFrozenDate();

async function count(app: GroupApp, query: string): Promise<number> {
  const body = await app.get(`/alert/retrieveAlertsCount?${query}&out=json`) as { AlertCount: number };
  assert.deepEqual(Object.keys(body), ['AlertCount']);
  return body.AlertCount;
}

describe('retrieveAlertsCount: the issue example', () => {
  const app = useApp();

  it('44 alerts received in the last few minutes and one 30 hours ago: time=10 says 44, time=1800 says 45', async () => {
    const now = Date.now();
    // 44 alerts over the last 4.3 minutes, one every 6 s; one 30 hours ago (a minute inside 1800 minutes).
    const recent = Array.from({ length: 44 }, (_, i) => alertRecord(at(now - i * 6 * SECOND)));
    await app.store([...recent, alertRecord(at(now - 30 * HOUR + MINUTE))]);
    assert.equal(await count(app, 'time=10'), 44);
    assert.equal(await count(app, 'time=1800'), 45);
    // XML, as the original formats it.
    const xml = await fetchText(`${app.running.url}/alert/retrieveAlertsCount?time=10`);
    assert.equal(xml.status, 200);
    assert.match(xml.headers.get('content-type') ?? '', /^text\/xml/);
    assert.equal(xml.text, '<?xml version="1.0" encoding="UTF-8"?><EWSSimpleIPInfo>\n  <AlertCount>44</AlertCount>\n</EWSSimpleIPInfo>\n');
    // out=json: {"AlertCount": N}, N an integer.
    const json = await fetchText(`${app.running.url}/alert/retrieveAlertsCount?time=1800&out=json`);
    assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(json.text, '{"AlertCount":45}');
  });
});

describe('retrieveAlertsCount: the edge of time=N', () => {
  const app = useApp();

  it('an alert received 9 min 59 s ago counts in time=10, one 10 min 5 s ago does not', async () => {
    const now = Date.now();
    await app.store([
      alertRecord(at(now - 9 * MINUTE - 59 * SECOND)),
      alertRecord(at(now - 10 * MINUTE - 5 * SECOND)),
    ]);
    assert.equal(await count(app, 'time=10'), 1);
    assert.equal(await count(app, 'time=11'), 2);
    assert.equal(await count(app, 'time=9'), 0);
  });
});

describe('retrieveAlertsCount: by recievedTime, not createTime', () => {
  const app = useApp();

  it('an alert created days ago but received now counts; one created now but received 2 h ago does not', async () => {
    const now = Date.now();
    await app.store([
      alertRecord({ createTime: formatUtc(now - 3 * DAY), recievedTime: formatUtc(now) }),
      alertRecord({ createTime: formatUtc(now), recievedTime: formatUtc(now - 2 * HOUR) }),
    ]);
    assert.equal(await count(app, 'time=10'), 1);
    assert.equal(await count(app, 'time=180'), 2);
  });
});

describe('retrieveAlertsCount: time=day', () => {
  const app = useApp();

  it('counts since 00:00:00 UTC today; 23:59:59 yesterday does not count', async () => {
    await awayFromGridLine(DAY);
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    await app.store([
      alertRecord(at(today)),
      alertRecord(at(today)),
      alertRecord(at(now)),
      alertRecord(at(today - SECOND)),
      alertRecord(at(today - HOUR)),
      // Created yesterday, received today: counts (recievedTime).
      alertRecord({ createTime: formatUtc(today - HOUR), recievedTime: formatUtc(today) }),
    ]);
    assert.equal(await count(app, 'time=day'), 4);
    const xml = await fetchText(`${app.running.url}/alert/retrieveAlertsCount?time=day`);
    assert.equal(xml.text, '<?xml version="1.0" encoding="UTF-8"?><EWSSimpleIPInfo>\n  <AlertCount>4</AlertCount>\n</EWSSimpleIPInfo>\n');
    const withType = await app.get('/alert/retrieveAlertsCountWithType?time=day');
    assert.deepEqual(withType, { AlertCountTotal: 4, AlertCountPerType: { 'SSH/console(cowrie)': 4 } });
  });
});

describe('rolling windows cutting through minutes and hours', () => {
  describe('alerts at now-61 min, now-59 min 30 s and now-30 s', () => {
    const app = useApp();

    it('time=60 counts 2, time=62 counts 3, time=1 counts 1; retrieveAlertStats agrees', async () => {
      const now = Date.now();
      await app.store([
        alertRecord(at(now - 61 * MINUTE)),
        alertRecord(at(now - 59 * MINUTE - 30 * SECOND)),
        alertRecord(at(now - 30 * SECOND)),
      ]);
      assert.equal(await count(app, 'time=60'), 2);
      assert.equal(await count(app, 'time=62'), 3);
      assert.equal(await count(app, 'time=1'), 1);
      assert.deepEqual(await app.get('/alert/retrieveAlertStats'), {
        AlertsLast24Hours: 3, AlertsLastHour: 2, AlertsLast5Minutes: 1, AlertsLastMinute: 1,
      });
    });
  });

  describe('alerts one second either side of many window starts', () => {
    const app = useApp();
    // Seconds before now. Each pair sits 1 s inside / 1 s outside a window start, so edges fall
    // into partial minutes, whole minutes and whole hours of the aggregates.
    const AGES = [30, 59, 61, 299, 301, 3530, 3599, 3601, 3659, 7199, 7201, 86399, 86401];

    before(async () => {
      const now = Date.now();
      await app.store(AGES.map((age) => alertRecord(at(now - age * SECOND))));
    });

    const expected: Array<[number, number]> = [
      [1, 2], // 30, 59
      [2, 3], // + 61
      [5, 4], // + 299
      [6, 5], // + 301
      [59, 6], // + 3530
      [60, 7], // + 3599
      [61, 9], // + 3601, 3659
      [119, 9],
      [120, 10], // + 7199
      [121, 11], // + 7201
      [1439, 11],
      [1440, 12], // + 86399
      [1441, 13], // + 86401
    ];
    for (const [minutes, n] of expected) {
      it(`time=${minutes} counts ${n}`, async () => {
        assert.equal(await count(app, `time=${minutes}`), n);
      });
    }

    it('retrieveAlertStats: {"AlertsLast24Hours":12,"AlertsLastHour":7,"AlertsLast5Minutes":4,"AlertsLastMinute":2}', async () => {
      const reply = await fetchText(`${app.running.url}/alert/retrieveAlertStats`);
      assert.equal(reply.status, 200);
      assert.equal(reply.text, '{"AlertsLast24Hours":12,"AlertsLastHour":7,"AlertsLast5Minutes":4,"AlertsLastMinute":2}');
    });
  });
});

describe('retrieveAlertsCountWithType', () => {
  const app = useApp();

  it('counts per peerType over time=N, integers, total the sum', async () => {
    const now = Date.now();
    await app.store([
      ...alertRecords(3, { ...at(now - 2 * MINUTE), peerType: 'SSH/console(cowrie)' }),
      ...alertRecords(2, { ...at(now - 9 * MINUTE), peerType: 'Webpage', peerIdent: 'glastopf-01' }),
      alertRecord({ ...at(now - 30 * MINUTE), peerType: 'Network(Dionaea)', peerIdent: 'dionaea-01' }),
      alertRecord({ ...at(now - 3 * HOUR), peerType: 'Network(honeytrap)', peerIdent: 'honeytrap-01' }),
    ]);
    assert.deepEqual(await app.get('/alert/retrieveAlertsCountWithType?time=10'), {
      AlertCountTotal: 5,
      AlertCountPerType: { 'SSH/console(cowrie)': 3, Webpage: 2 },
    });
    assert.deepEqual(await app.get('/alert/retrieveAlertsCountWithType?time=60'), {
      AlertCountTotal: 6,
      AlertCountPerType: { 'SSH/console(cowrie)': 3, Webpage: 2, 'Network(Dionaea)': 1 },
    });
    assert.deepEqual(await app.get('/alert/retrieveAlertsCountWithType?time=240'), {
      AlertCountTotal: 7,
      AlertCountPerType: { 'SSH/console(cowrie)': 3, Webpage: 2, 'Network(Dionaea)': 1, 'Network(honeytrap)': 1 },
    });
  });
});

describe('ci on the counting endpoints', () => {
  const app = useApp();

  before(async () => {
    const now = Date.now();
    await app.store([
      ...alertRecords(3, { ...at(now - MINUTE / 2), clientDomain: true }),
      ...alertRecords(2, { ...at(now - MINUTE / 2), clientDomain: false, peerType: 'Webpage', peerIdent: 'glastopf-private' }),
    ]);
  });

  for (const [ci, expected] of [['', 3], ['&ci=1', 3], ['&ci=abc', 3], ['&ci=', 3], ['&ci=0', 2], ['&ci=-1', 5]] as const) {
    it(`retrieveAlertsCount with "${ci}" counts ${expected}`, async () => {
      assert.equal(await count(app, `time=10${ci}`), expected);
    });
  }

  it('retrieveAlertsCountWithType: community, private (ci=0), both (ci=-1)', async () => {
    assert.deepEqual(await app.get('/alert/retrieveAlertsCountWithType?time=10'), { AlertCountTotal: 3, AlertCountPerType: { 'SSH/console(cowrie)': 3 } });
    assert.deepEqual(await app.get('/alert/retrieveAlertsCountWithType?time=10&ci=0'), { AlertCountTotal: 2, AlertCountPerType: { Webpage: 2 } });
    assert.deepEqual(await app.get('/alert/retrieveAlertsCountWithType?time=10&ci=-1'), {
      AlertCountTotal: 5, AlertCountPerType: { 'SSH/console(cowrie)': 3, Webpage: 2 },
    });
  });

  it('retrieveAlertStats: community, private (ci=0), both (ci=-1)', async () => {
    assert.deepEqual(await app.get('/alert/retrieveAlertStats'), { AlertsLast24Hours: 3, AlertsLastHour: 3, AlertsLast5Minutes: 3, AlertsLastMinute: 3 });
    assert.deepEqual(await app.get('/alert/retrieveAlertStats?ci=0'), { AlertsLast24Hours: 2, AlertsLastHour: 2, AlertsLast5Minutes: 2, AlertsLastMinute: 2 });
    assert.deepEqual(await app.get('/alert/retrieveAlertStats?ci=-1'), { AlertsLast24Hours: 5, AlertsLastHour: 5, AlertsLast5Minutes: 5, AlertsLastMinute: 5 });
  });

  it('retrieveAlertsJson: community, private (ci=0), both (ci=-1), clientDomain as a boolean', async () => {
    const domains = async (ci: string): Promise<boolean[]> =>
      ((await app.get(`/alert/retrieveAlertsJson${ci}`)) as { alerts: Array<{ clientDomain: boolean }> }).alerts.map((a) => a.clientDomain).sort();
    assert.deepEqual(await domains(''), [true, true, true]);
    assert.deepEqual(await domains('?ci=7'), [true, true, true]);
    assert.deepEqual(await domains('?ci=0'), [false, false]);
    assert.deepEqual(await domains('?ci=-1'), [false, false, true, true, true]);
  });
});

describe('aggregates are idempotent', () => {
  const app = useApp();

  it('storing the same records twice changes no count on any endpoint', async () => {
    await awayFromGridLine(HOUR);
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    const records = [
      // 30 s ago: well inside "last minute" for both rounds of questions, however long they take.
      ...alertRecords(3, at(now - MINUTE / 2)),
      ...alertRecords(2, { ...at(now - 2 * HOUR), peerType: 'Webpage', peerIdent: 'glastopf-01', originalRequestString: '/index.php', targetEntryPort: '80' }),
      alertRecord({ createTime: formatUtc(today - 2 * DAY), recievedTime: formatUtc(now - 20 * MINUTE), hostname: 'sensor-x' }),
    ];
    await app.store(records);
    const paths = [
      '/alert/retrieveAlertsCount?time=10&out=json',
      '/alert/retrieveAlertsCount?time=1440&out=json',
      '/alert/retrieveAlertsCountWithType?time=1440',
      '/alert/retrieveAlertStats',
      '/alert/datasetAlertsPerMonth?days=5',
      '/alert/datasetAlertTypesPerMonth?days=5',
      '/alert/topCountriesAttacks',
      '/alert/retrieveLatLonAttacks',
      '/alert/retrieveLatLonAttacks?direction=dst',
      '/alert/tops?type=urls&topx=10&days=1',
      '/alert/tops?type=destports&topx=10&days=28',
      '/alert/retrieveAlertsJson',
    ];
    const first = await Promise.all(paths.map((p) => app.get(p)));
    assert.deepEqual(first[1], { AlertCount: 6 });
    assert.deepEqual(first[2], { AlertCountTotal: 6, AlertCountPerType: { 'SSH/console(cowrie)': 4, Webpage: 2 } });
    const again = await app.running.app.store.storeAlerts(records);
    assert.deepEqual(again, { inserted: 0, duplicates: 6 });
    const second = await Promise.all(paths.map((p) => app.get(p)));
    paths.forEach((path, i) => assert.deepEqual(second[i], first[i], path));
    assert.equal(await app.running.app.store.countAlerts(), 6);
  });
});

describe('end to end through postSimpleMessage (recievedTime = now)', () => {
  const app = useApp();

  it('posted alerts count at once, whatever their createTime; a resubmission counts nothing more', async () => {
    const message = ewsMessage([
      alertXml({ analyzer: 'cowrie-e2e-01', createTime: '2017-02-22 03:34:58', source: '81.2.69.142', target: '89.160.20.112' }),
      alertXml({ analyzer: 'cowrie-e2e-01', createTime: '2017-02-22 03:35:00', source: '81.2.69.143', target: '89.160.20.113' }),
      alertXml({ analyzer: 'glastopf-e2e-01', createTime: '2017-02-22 03:36:00', source: '216.160.83.57', target: '89.160.20.114', requests: { url: '/index.php%3Fid%3D1' } }),
    ]);
    const before = Date.now();
    const reply = await postMessage(app.running.url, message);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.text, OK_REPLY);
    assert.equal(await count(app, 'time=1'), 3);
    assert.deepEqual(await app.get('/alert/retrieveAlertsCountWithType?time=1'), {
      AlertCountTotal: 3, AlertCountPerType: { 'SSH/console(cowrie)': 2, Webpage: 1 },
    });
    const ticker = (await app.get('/alert/retrieveAlertsJson')) as { alerts: Array<Record<string, unknown>> };
    assert.equal(ticker.alerts.length, 3);
    for (const alert of ticker.alerts) {
      const received = Date.parse(`${String(alert['dateCreated']).replace(' ', 'T')}Z`);
      assert.ok(received >= Math.floor(before / 1000) * 1000 && received <= Date.now(), `dateCreated ${String(alert['dateCreated'])} is the time of receipt`);
      assert.equal(alert['clientDomain'], true);
    }
    const web = ticker.alerts.find((a) => a['analyzerType'] === 'Webpage')!;
    assert.deepEqual(
      [web['country'], web['sourceLat'], web['sourceLng'], web['targetCountry'], web['destLat'], web['destLng'], web['requestString']],
      ['US', '47.2513', '-122.3149', 'SE', '58.4167', '15.6167', '/index.php?id=1'],
    );
    // The dataset is by createTime (2017): nothing in the last month.
    assert.deepEqual(await app.get('/alert/datasetAlertsPerMonth'), [{ datasetAlertsPerMonth: {} }]);
    // Resubmission: same ids, nothing counted twice.
    const again = await postMessage(app.running.url, message);
    assert.equal(again.text, OK_REPLY);
    assert.equal(await count(app, 'time=1'), 3);
    assert.deepEqual(await app.get('/alert/retrieveAlertStats'), { AlertsLast24Hours: 3, AlertsLastHour: 3, AlertsLast5Minutes: 3, AlertsLastMinute: 3 });
  });

  it('a posted cowrie login shows in the ticker and its sensor in TpotStats of today', async () => {
    await awayFromGridLine(DAY);
    const reply = await postMessage(app.running.url, ewsMessage([
      alertXml({
        analyzer: 'cowrie-e2e-login', source: '81.2.69.160', target: '89.160.20.120',
        additional: { username: 'root', password: 'admin%21', login: 'Fail', hostname: 'tpot-e2e' },
      }),
    ]));
    assert.equal(reply.text, OK_REPLY);
    const ticker = (await app.get('/alert/retrieveAlertsJson')) as { alerts: Array<Record<string, unknown>> };
    assert.equal(ticker.alerts[0]!['requestString'], 'Username: &quot;root&quot; | Password: &quot;admin!&quot; | Status: Fail');
    const day = formatUtc(Date.now()).slice(0, 10);
    // Today's community sensors: the first test's alerts (hostname undefined, so their target
    // addresses .112, .113 and .114 are the honeypots) and tpot-e2e.
    assert.deepEqual((await app.get(`/alert/TpotStats?day=${day.replace(/-/g, '')}`) as { communityHoneypots: unknown }).communityHoneypots, {
      totalNumberAlerts: 4,
      totalNumberHoneypots: 4,
      totalNumberDaemons: 4,
      numberAlertsPerType: { 'SSH/console(cowrie)': 3, Webpage: 1 },
      numberHoneypotsPerType: { 'SSH/console(cowrie)': 3, Webpage: 1 },
    });
  });

  it('alerts posted by a private user count under ci=0 only', async () => {
    const user = await addPrivateUser(app.running, 'e2e-private', 'e2e-Token-1');
    const reply = await postMessage(app.running.url, ewsMessage([
      alertXml({ analyzer: 'cowrie-e2e-private', source: '81.2.69.150' }),
      alertXml({ analyzer: 'cowrie-e2e-private', source: '81.2.69.151' }),
    ], user));
    assert.equal(reply.text, OK_REPLY);
    assert.equal(await count(app, 'time=1&ci=0'), 2);
    assert.equal(await count(app, 'time=1'), 4);
    assert.equal(await count(app, 'time=1&ci=-1'), 6);
  });
});
