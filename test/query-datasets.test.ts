/**
 * Per-day, per-month and geographic endpoints (CONTRACT sections 4 and 6): datasetAlertsPerMonth,
 * datasetAlertTypesPerMonth (UTC days by createTime), topCountriesAttacks (calendar months by
 * recievedTime), retrieveLatLonAttacks (last 24 h or a UTC day, by createTime) and TpotStats
 * (a UTC day of community sensors, by recievedTime). Times are set relative to the start of the
 * current UTC day or month; expectations are written out by hand.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alertRecord, alertRecords, at, awayFromGridLine, useApp, useFrozenDate } from './helpers';

// Windows are checked to the second: the test and the server must see the same now.
useFrozenDate();
import { formatUtc } from '../src/domain/time';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const startOfDay = (time: number): number => Math.floor(time / DAY) * DAY;
/** `YYYY-MM-DD 00:00:00` of the UTC day holding `time`. */
const dayKey = (time: number): string => `${formatUtc(time).slice(0, 10)} 00:00:00`;
const ymd = (time: number): string => formatUtc(time).slice(0, 10);
const SSH = 'SSH/console(cowrie)';

describe('datasetAlertsPerMonth and datasetAlertTypesPerMonth with days=X', () => {
  const app = useApp();
  let today = 0;

  before(async () => {
    await awayFromGridLine(DAY);
    const now = Date.now();
    today = startOfDay(now);
    const received = { recievedTime: formatUtc(now) };
    await app.store([
      // Six days ago, 23:59:59: outside days=5.
      alertRecord({ ...received, createTime: formatUtc(today - 5 * DAY - SECOND) }),
      // Five days ago: 00:00:00 and noon.
      alertRecord({ ...received, createTime: formatUtc(today - 5 * DAY) }),
      alertRecord({ ...received, createTime: formatUtc(today - 5 * DAY + 12 * HOUR) }),
      // Three days ago, 23:59:59; and one received 40 days ago (the day is by createTime).
      alertRecord({ ...received, createTime: formatUtc(today - 2 * DAY - SECOND) }),
      alertRecord({ createTime: formatUtc(today - 3 * DAY + HOUR), recievedTime: formatUtc(today - 40 * DAY) }),
      // Yesterday: one cowrie, one Webpage.
      alertRecord({ ...received, createTime: formatUtc(today - DAY) }),
      alertRecord({ ...received, createTime: formatUtc(today - HOUR), peerType: 'Webpage', peerIdent: 'glastopf-01' }),
      // Today 00:00:00.
      alertRecord({ ...received, createTime: formatUtc(today) }),
      // Created ten days ago, received now: not in days=5.
      alertRecord({ ...received, createTime: formatUtc(today - 10 * DAY) }),
      // Private alerts: only with ci=0 / ci=-1.
      alertRecord({ ...received, createTime: formatUtc(today - 4 * DAY), clientDomain: false }),
      alertRecord({ ...received, createTime: formatUtc(today - 4 * DAY), clientDomain: false, peerType: 'Webpage', peerIdent: 'glastopf-private' }),
    ]);
  });

  it('days=5: per UTC day from the start of the day 5 days ago, by createTime, empty days in between as 0', async () => {
    const body = await app.get('/alert/datasetAlertsPerMonth?days=5');
    assert.deepEqual(body, [{
      datasetAlertsPerMonth: {
        [dayKey(today - 5 * DAY)]: 2,
        [dayKey(today - 4 * DAY)]: 0,
        [dayKey(today - 3 * DAY)]: 2,
        [dayKey(today - 2 * DAY)]: 0,
        [dayKey(today - DAY)]: 2,
        [dayKey(today)]: 1,
      },
    }]);
    // Keys in day order, `YYYY-MM-DD 00:00:00`.
    const keys = Object.keys((body as Array<{ datasetAlertsPerMonth: object }>)[0]!.datasetAlertsPerMonth);
    assert.deepEqual(keys, [5, 4, 3, 2, 1, 0].map((d) => dayKey(today - d * DAY)));
    for (const key of keys) assert.match(key, /^\d{4}-\d{2}-\d{2} 00:00:00$/);
  });

  it('days=6 reaches 23:59:59 six days ago; days=1 and days=0', async () => {
    assert.deepEqual(await app.get('/alert/datasetAlertsPerMonth?days=6'), [{
      datasetAlertsPerMonth: {
        [dayKey(today - 6 * DAY)]: 1,
        [dayKey(today - 5 * DAY)]: 2,
        [dayKey(today - 4 * DAY)]: 0,
        [dayKey(today - 3 * DAY)]: 2,
        [dayKey(today - 2 * DAY)]: 0,
        [dayKey(today - DAY)]: 2,
        [dayKey(today)]: 1,
      },
    }]);
    assert.deepEqual(await app.get('/alert/datasetAlertsPerMonth?days=1'), [{ datasetAlertsPerMonth: { [dayKey(today - DAY)]: 2, [dayKey(today)]: 1 } }]);
    assert.deepEqual(await app.get('/alert/datasetAlertsPerMonth?days=0'), [{ datasetAlertsPerMonth: { [dayKey(today)]: 1 } }]);
  });

  it('ci=0 gives the private alerts, ci=-1 both', async () => {
    assert.deepEqual(await app.get('/alert/datasetAlertsPerMonth?days=5&ci=0'), [{ datasetAlertsPerMonth: { [dayKey(today - 4 * DAY)]: 2 } }]);
    assert.deepEqual(await app.get('/alert/datasetAlertsPerMonth?days=5&ci=-1'), [{
      datasetAlertsPerMonth: {
        [dayKey(today - 5 * DAY)]: 2,
        [dayKey(today - 4 * DAY)]: 2,
        [dayKey(today - 3 * DAY)]: 2,
        [dayKey(today - 2 * DAY)]: 0,
        [dayKey(today - DAY)]: 2,
        [dayKey(today)]: 1,
      },
    }]);
  });

  it('datasetAlertTypesPerMonth: the same split by peerType, days without alerts omitted', async () => {
    assert.deepEqual(await app.get('/alert/datasetAlertTypesPerMonth?days=5'), [{
      datasetAlertsPerMonth: {
        [dayKey(today - 5 * DAY)]: { [SSH]: 2 },
        [dayKey(today - 3 * DAY)]: { [SSH]: 2 },
        [dayKey(today - DAY)]: { [SSH]: 1, Webpage: 1 },
        [dayKey(today)]: { [SSH]: 1 },
      },
    }]);
    assert.deepEqual(await app.get('/alert/datasetAlertTypesPerMonth?days=5&ci=0'), [{
      datasetAlertsPerMonth: { [dayKey(today - 4 * DAY)]: { [SSH]: 1, Webpage: 1 } },
    }]);
    assert.deepEqual(await app.get('/alert/datasetAlertTypesPerMonth?days=5&ci=-1'), [{
      datasetAlertsPerMonth: {
        [dayKey(today - 5 * DAY)]: { [SSH]: 2 },
        [dayKey(today - 4 * DAY)]: { [SSH]: 1, Webpage: 1 },
        [dayKey(today - 3 * DAY)]: { [SSH]: 2 },
        [dayKey(today - DAY)]: { [SSH]: 1, Webpage: 1 },
        [dayKey(today)]: { [SSH]: 1 },
      },
    }]);
  });
});

describe('datasetAlertsPerMonth without days: one month back', () => {
  const app = useApp();
  let today = 0;
  /** Start of the same day of the month one month ago (clamped to that month's last day), by hand. */
  let monthAgo = 0;

  before(async () => {
    await awayFromGridLine(DAY);
    const now = Date.now();
    today = startOfDay(now);
    const date = new Date(today);
    const daysInPreviousMonth = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 0)).getUTCDate();
    monthAgo = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, Math.min(date.getUTCDate(), daysInPreviousMonth));
    const received = { recievedTime: formatUtc(now) };
    await app.store([
      alertRecord({ ...received, createTime: formatUtc(monthAgo - SECOND) }),
      alertRecord({ ...received, createTime: formatUtc(today - 32 * DAY) }),
      alertRecord({ ...received, createTime: formatUtc(monthAgo) }),
      ...alertRecords(3, { ...received, createTime: formatUtc(today - 27 * DAY + 5 * HOUR) }),
      alertRecord({ ...received, createTime: formatUtc(today - DAY), peerType: 'Network(Dionaea)', peerIdent: 'dionaea-01' }),
    ]);
  });

  it('from the start of the day one calendar month ago; zero-filled between first and last day', async () => {
    const expected: Record<string, number> = {};
    for (let day = monthAgo; day <= today - DAY; day += DAY) expected[dayKey(day)] = 0;
    expected[dayKey(monthAgo)] = 1;
    expected[dayKey(today - 27 * DAY)] = 3;
    expected[dayKey(today - DAY)] = 1;
    assert.deepEqual(await app.get('/alert/datasetAlertsPerMonth'), [{ datasetAlertsPerMonth: expected }]);
  });

  it('datasetAlertTypesPerMonth without days: the same month, days without alerts omitted', async () => {
    assert.deepEqual(await app.get('/alert/datasetAlertTypesPerMonth'), [{
      datasetAlertsPerMonth: {
        [dayKey(monthAgo)]: { [SSH]: 1 },
        [dayKey(today - 27 * DAY)]: { [SSH]: 3 },
        [dayKey(today - DAY)]: { 'Network(Dionaea)': 1 },
      },
    }]);
  });
});

describe('topCountriesAttacks', () => {
  const app = useApp();
  let thisMonth = 0;
  let lastMonth = 0;
  let twoMonthsAgo = 0;

  before(async () => {
    await awayFromGridLine(DAY);
    const now = Date.now();
    const date = new Date(now);
    thisMonth = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    lastMonth = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, 1);
    twoMonthsAgo = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 2, 1);
    const from = (code: string, name: string) => ({ country: code, countryName: name });
    const to = (code: string, name: string) => ({ targetCountry: code, targetCountryName: name });
    await app.store([
      // This month, by recievedTime.
      ...alertRecords(4, { ...at(now), ...from('GB', 'United Kingdom'), ...to('SE', 'Sweden') }),
      ...alertRecords(3, { ...at(thisMonth), ...from('US', 'United States'), ...to('DE', 'Germany') }),
      ...alertRecords(2, { ...at(now), ...from('CN', 'China'), ...to('SE', 'Sweden') }),
      alertRecord({ createTime: formatUtc(lastMonth + DAY), recievedTime: formatUtc(now), ...from('JP', 'Japan'), ...to('FR', 'France') }),
      // Last month: its last second and its first.
      ...alertRecords(2, { ...at(thisMonth - SECOND), ...from('DE', 'Germany'), ...to('GB', 'United Kingdom') }),
      alertRecord({ createTime: formatUtc(now), recievedTime: formatUtc(lastMonth), ...from('FR', 'France'), ...to('GB', 'United Kingdom') }),
      // Two months ago.
      alertRecord({ ...at(twoMonthsAgo + 5 * DAY), ...from('RU', 'Russia'), ...to('US', 'United States') }),
      // Private, this month.
      ...alertRecords(5, { ...at(now), clientDomain: false, ...from('BR', 'Brazil'), ...to('SE', 'Sweden') }),
    ]);
  });

  const month = (time: number): string => formatUtc(time).slice(0, 7);

  it('this calendar month by default, top 10, {code, country, count} most first', async () => {
    assert.deepEqual(await app.get('/alert/topCountriesAttacks'), [{
      id: 0,
      date: month(thisMonth),
      attacksPerCountry: [
        { code: 'GB', country: 'United Kingdom', count: 4 },
        { code: 'US', country: 'United States', count: 3 },
        { code: 'CN', country: 'China', count: 2 },
        { code: 'JP', country: 'Japan', count: 1 },
      ],
      attacksToTargetCountry: [
        { code: 'SE', country: 'Sweden', count: 6 },
        { code: 'DE', country: 'Germany', count: 3 },
        { code: 'FR', country: 'France', count: 1 },
      ],
    }]);
    assert.match(month(thisMonth), /^\d{4}-\d{2}$/);
  });

  it('topx limits both lists', async () => {
    const body = await app.get('/alert/topCountriesAttacks?topx=2') as Array<{ attacksPerCountry: Array<{ code: string }>; attacksToTargetCountry: Array<{ code: string }> }>;
    assert.deepEqual(body[0]!.attacksPerCountry.map((c) => c.code), ['GB', 'US']);
    assert.deepEqual(body[0]!.attacksToTargetCountry.map((c) => c.code), ['SE', 'DE']);
    const one = await app.get('/alert/topCountriesAttacks?topx=1&monthOffset=0') as typeof body;
    assert.deepEqual(one[0]!.attacksPerCountry, [{ code: 'GB', country: 'United Kingdom', count: 4 }]);
    // The current month is the number 0 however it was asked for.
    for (const query of ['', '?monthOffset=0', '?offset=0']) {
      assert.deepEqual((await app.get(`/alert/topCountriesAttacks${query}`) as Array<{ id: unknown }>)[0]!.id, 0, query);
    }
  });

  it('monthOffset=1 and its alias offset=1: last calendar month, by recievedTime; id is the string from the URL', async () => {
    const expected = [{
      id: '1',
      date: month(lastMonth),
      attacksPerCountry: [{ code: 'DE', country: 'Germany', count: 2 }, { code: 'FR', country: 'France', count: 1 }],
      attacksToTargetCountry: [{ code: 'GB', country: 'United Kingdom', count: 3 }],
    }];
    assert.deepEqual(await app.get('/alert/topCountriesAttacks?monthOffset=1'), expected);
    assert.deepEqual(await app.get('/alert/topCountriesAttacks?offset=1'), expected);
    assert.deepEqual(await app.get('/alert/topCountriesAttacks?monthOffset=2'), [{
      id: '2',
      date: month(twoMonthsAgo),
      attacksPerCountry: [{ code: 'RU', country: 'Russia', count: 1 }],
      attacksToTargetCountry: [{ code: 'US', country: 'United States', count: 1 }],
    }]);
  });

  it('ci=0 private only, ci=-1 both', async () => {
    assert.deepEqual(await app.get('/alert/topCountriesAttacks?ci=0'), [{
      id: 0,
      date: month(thisMonth),
      attacksPerCountry: [{ code: 'BR', country: 'Brazil', count: 5 }],
      attacksToTargetCountry: [{ code: 'SE', country: 'Sweden', count: 5 }],
    }]);
    const both = await app.get('/alert/topCountriesAttacks?ci=-1') as Array<{ attacksPerCountry: Array<{ code: string; count: number }>; attacksToTargetCountry: Array<{ code: string; count: number }> }>;
    assert.deepEqual(both[0]!.attacksPerCountry.map((c) => [c.code, c.count]), [['BR', 5], ['GB', 4], ['US', 3], ['CN', 2], ['JP', 1]]);
    assert.deepEqual(both[0]!.attacksToTargetCountry.map((c) => [c.code, c.count]), [['SE', 11], ['DE', 3], ['FR', 1]]);
  });
});

const LOC_A = '51.5142 , -0.0931';
const LOC_B = '47.2513 , -122.3149';
const LOC_C = '43.88 , 125.3228';
const LOC_T1 = '58.4167 , 15.6167';
const LOC_T2 = '51.5 , 10.5';

describe('retrieveLatLonAttacks over the last 24 hours (offset absent or 0)', () => {
  const app = useApp();
  let now = 0;

  before(async () => {
    // statsSince is today's date while the window reaches into yesterday: keep clear of midnight.
    await awayFromGridLine(DAY);
    now = Date.now();
    const received = { recievedTime: formatUtc(now) };
    await app.store([
      ...alertRecords(3, { ...received, createTime: formatUtc(now - HOUR), location: LOC_A, locationDestination: LOC_T1 }),
      ...alertRecords(2, { ...received, createTime: formatUtc(now - 24 * HOUR + MINUTE), location: LOC_B, locationDestination: LOC_T2 }),
      // Just over 24 h ago, and created days ago though received now: both outside.
      alertRecord({ ...received, createTime: formatUtc(now - 24 * HOUR - MINUTE), location: LOC_C, locationDestination: LOC_T2 }),
      alertRecord({ ...received, createTime: formatUtc(now - 3 * DAY), location: LOC_C, locationDestination: LOC_T2 }),
      // Created within 24 h but received long before that counts (createTime).
      alertRecord({ createTime: formatUtc(now - 2 * HOUR), recievedTime: formatUtc(now - 5 * DAY), location: LOC_C, locationDestination: LOC_T1 }),
      // Private.
      ...alertRecords(4, { ...at(now), clientDomain: false, location: LOC_C, locationDestination: LOC_T1 }),
    ]);
  });

  it('source locations by default: lat/lng strings, integer counts, most first; statsSince today (as the original)', async () => {
    const expected = [{
      statsSince: ymd(now),
      latLonAttacks: [
        { lat: '51.5142', lng: '-0.0931', count: 3 },
        { lat: '47.2513', lng: '-122.3149', count: 2 },
        { lat: '43.88', lng: '125.3228', count: 1 },
      ],
    }];
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks'), expected);
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?direction=src&offset=0'), expected);
  });

  it('direction=dst gives target locations; topx limits', async () => {
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?direction=dst'), [{
      statsSince: ymd(now),
      latLonAttacks: [{ lat: '58.4167', lng: '15.6167', count: 4 }, { lat: '51.5', lng: '10.5', count: 2 }],
    }]);
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?topx=1'), [{
      statsSince: ymd(now),
      latLonAttacks: [{ lat: '51.5142', lng: '-0.0931', count: 3 }],
    }]);
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?direction=dst&topx=1'), [{
      statsSince: ymd(now),
      latLonAttacks: [{ lat: '58.4167', lng: '15.6167', count: 4 }],
    }]);
  });

  it('ci=0 private only, ci=-1 both', async () => {
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?ci=0'), [{
      statsSince: ymd(now),
      latLonAttacks: [{ lat: '43.88', lng: '125.3228', count: 4 }],
    }]);
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?ci=-1'), [{
      statsSince: ymd(now),
      latLonAttacks: [
        { lat: '43.88', lng: '125.3228', count: 5 },
        { lat: '51.5142', lng: '-0.0931', count: 3 },
        { lat: '47.2513', lng: '-122.3149', count: 2 },
      ],
    }]);
  });
});

describe('retrieveLatLonAttacks?offset=D: the UTC day D days ago, by createTime', () => {
  const app = useApp();
  let today = 0;

  before(async () => {
    await awayFromGridLine(DAY);
    const now = Date.now();
    today = startOfDay(now);
    const received = { recievedTime: formatUtc(now) };
    await app.store([
      ...alertRecords(2, { ...received, createTime: formatUtc(today - DAY), location: LOC_A, locationDestination: LOC_T1 }),
      alertRecord({ ...received, createTime: formatUtc(today - SECOND), location: LOC_B, locationDestination: LOC_T2 }),
      ...alertRecords(4, { ...received, createTime: formatUtc(today), location: LOC_C, locationDestination: LOC_T2 }),
      ...alertRecords(5, { ...received, createTime: formatUtc(today - DAY - SECOND), location: LOC_B, locationDestination: LOC_T1 }),
    ]);
  });

  it('offset=1: yesterday 00:00:00 to 23:59:59, statsSince yesterday', async () => {
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?offset=1'), [{
      statsSince: ymd(today - DAY),
      latLonAttacks: [{ lat: '51.5142', lng: '-0.0931', count: 2 }, { lat: '47.2513', lng: '-122.3149', count: 1 }],
    }]);
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?offset=1&direction=dst'), [{
      statsSince: ymd(today - DAY),
      latLonAttacks: [{ lat: '58.4167', lng: '15.6167', count: 2 }, { lat: '51.5', lng: '10.5', count: 1 }],
    }]);
  });

  it('offset=2: the day before', async () => {
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?offset=2&direction=src&topx=3'), [{
      statsSince: ymd(today - 2 * DAY),
      latLonAttacks: [{ lat: '47.2513', lng: '-122.3149', count: 5 }],
    }]);
    assert.deepEqual(await app.get('/alert/retrieveLatLonAttacks?offset=3'), [{ statsSince: ymd(today - 3 * DAY), latLonAttacks: [] }]);
  });
});

describe('TpotStats?day=YYYYMMDD', () => {
  const app = useApp();
  let yesterday = 0;

  before(async () => {
    await awayFromGridLine(DAY);
    const today = startOfDay(Date.now());
    yesterday = today - DAY;
    const on = (time: number) => at(time);
    const cowrie = { peerType: SSH };
    await app.store([
      // sensor-a: two daemons (cowrie-1 three times, dionaea-1 once); 00:00:00 and 23:59:59 included.
      ...alertRecords(2, { ...on(yesterday), ...cowrie, hostname: 'sensor-a', peerIdent: 'cowrie-1', targetEntryIp: '89.160.20.112' }),
      alertRecord({ ...on(today - SECOND), ...cowrie, hostname: 'sensor-a', peerIdent: 'cowrie-1', targetEntryIp: '89.160.20.113' }),
      alertRecord({ ...on(yesterday + HOUR), peerType: 'Network(Dionaea)', hostname: 'sensor-a', peerIdent: 'dionaea-1' }),
      // hostname `undefined`: the sensor is the target address (two sensors, same daemon name).
      ...alertRecords(2, { ...on(yesterday + 2 * HOUR), ...cowrie, hostname: 'undefined', peerIdent: 'cowrie-2', targetEntryIp: '10.0.0.5' }),
      alertRecord({ ...on(yesterday + 3 * HOUR), ...cowrie, hostname: 'undefined', peerIdent: 'cowrie-2', targetEntryIp: '10.0.0.6' }),
      // A named sensor whose target address is one of the above is still its own honeypot.
      // It was created the day before yesterday but received yesterday: the day is by recievedTime.
      alertRecord({ createTime: formatUtc(yesterday - 5 * HOUR), recievedTime: formatUtc(yesterday + 5 * HOUR), ...cowrie, hostname: 'sensor-b', peerIdent: 'cowrie-1', targetEntryIp: '10.0.0.5' }),
      // Outside the day: 23:59:59 the day before, 00:00:00 today, created yesterday but received today.
      alertRecord({ ...on(yesterday - SECOND), ...cowrie, hostname: 'sensor-c', peerIdent: 'cowrie-9' }),
      alertRecord({ ...on(today), ...cowrie, hostname: 'sensor-c', peerIdent: 'cowrie-9' }),
      alertRecord({ createTime: formatUtc(today - HOUR), recievedTime: formatUtc(today), ...cowrie, hostname: 'sensor-c', peerIdent: 'cowrie-9' }),
      // Private sensors are never counted.
      ...alertRecords(3, { ...on(yesterday + HOUR), clientDomain: false, peerType: 'Webpage', hostname: 'private-1', peerIdent: 'glastopf-p' }),
    ]);
  });

  const compact = (time: number): string => ymd(time).replace(/-/g, '');

  it('community sensors on that UTC day: alerts, honeypots (hostname, else target address), daemons, per type', async () => {
    const expected = {
      communityHoneypots: {
        totalNumberAlerts: 8,
        totalNumberHoneypots: 4,
        totalNumberDaemons: 5,
        numberAlertsPerType: { [SSH]: 7, 'Network(Dionaea)': 1 },
        numberHoneypotsPerType: { [SSH]: 4, 'Network(Dionaea)': 1 },
      },
      UTCtimeFrom: `${ymd(yesterday)} 00:00:00`,
      UTCtimeTo: `${ymd(yesterday)} 23:59:59`,
    };
    assert.deepEqual(await app.get(`/alert/TpotStats?day=${compact(yesterday)}`), expected);
    // Community only, whatever ci says.
    assert.deepEqual(await app.get(`/alert/TpotStats?day=${compact(yesterday)}&ci=0`), expected);
    assert.deepEqual(await app.get(`/alert/TpotStats?day=${compact(yesterday)}&ci=-1`), expected);
  });

  it('a day without alerts: zeros and empty objects', async () => {
    const day = yesterday - 10 * DAY;
    assert.deepEqual(await app.get(`/alert/TpotStats?day=${compact(day)}`), {
      communityHoneypots: {
        totalNumberAlerts: 0,
        totalNumberHoneypots: 0,
        totalNumberDaemons: 0,
        numberAlertsPerType: {},
        numberHoneypotsPerType: {},
      },
      UTCtimeFrom: `${ymd(day)} 00:00:00`,
      UTCtimeTo: `${ymd(day)} 23:59:59`,
    });
  });

  it('a fixed past day: UTCtimeFrom/To of 2018-03-17', async () => {
    const body = await app.get('/alert/TpotStats?day=20180317') as { UTCtimeFrom: string; UTCtimeTo: string };
    assert.equal(body.UTCtimeFrom, '2018-03-17 00:00:00');
    assert.equal(body.UTCtimeTo, '2018-03-17 23:59:59');
  });
});
