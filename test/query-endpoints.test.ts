/**
 * Read endpoints as a whole (CONTRACT sections 4-7): every endpoint on an empty store, the
 * exact XML layout, the ticker of retrieveAlertsJson, DEFAULTRESPONSE for malformed parameters,
 * CORS, the redirect of `/`, and the heartbeat (up, then down once the store is closed).
 * Windowed counts, datasets, tops and the private lists have their own query-*.test.ts files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addPrivateUser, alertRecord, at, awayFromGridLine, fetchText, queryBody, startApp, useApp,
} from './helpers';
import { formatUtc } from '../src/domain/time';
import type { AlertRecord } from '../src/domain/alert';

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

describe('every endpoint on an empty store', () => {
  const app = useApp();
  let user: { username: string; token: string };
  let now = 0;

  before(async () => {
    await awayFromGridLine(DAY);
    user = await addPrivateUser(app.running);
    now = Date.now();
  });

  const text = async (path: string): Promise<string> => {
    const reply = await fetchText(app.running.url + path);
    assert.equal(reply.status, 200, `${path}: ${reply.text}`);
    return reply.text;
  };

  it('retrieveAlertsCount: <AlertCount>0</AlertCount> in XML, {"AlertCount":0} in JSON', async () => {
    const xml = `${DECLARATION}<EWSSimpleIPInfo>\n  <AlertCount>0</AlertCount>\n</EWSSimpleIPInfo>\n`;
    assert.equal(await text('/alert/retrieveAlertsCount?time=10'), xml);
    assert.equal(await text('/alert/retrieveAlertsCount?time=day'), xml);
    assert.equal(await text('/alert/retrieveAlertsCount?time=10&out=json'), '{"AlertCount":0}');
    assert.equal(await text('/alert/retrieveAlertsCount?time=day&out=JSON'), '{"AlertCount":0}');
  });

  it('retrieveAlertsCountWithType, retrieveAlertStats, retrieveAlertsJson', async () => {
    assert.equal(await text('/alert/retrieveAlertsCountWithType?time=10'), '{"AlertCountTotal":0,"AlertCountPerType":{}}');
    assert.equal(await text('/alert/retrieveAlertsCountWithType?time=day'), '{"AlertCountTotal":0,"AlertCountPerType":{}}');
    assert.equal(await text('/alert/retrieveAlertStats'), '{"AlertsLast24Hours":0,"AlertsLastHour":0,"AlertsLast5Minutes":0,"AlertsLastMinute":0}');
    assert.equal(await text('/alert/retrieveAlertsJson'), '{"alerts":[]}');
  });

  it('datasets, countries, locations', async () => {
    assert.equal(await text('/alert/datasetAlertsPerMonth'), '[{"datasetAlertsPerMonth":{}}]');
    assert.equal(await text('/alert/datasetAlertsPerMonth?days=7'), '[{"datasetAlertsPerMonth":{}}]');
    assert.equal(await text('/alert/datasetAlertTypesPerMonth'), '[{"datasetAlertsPerMonth":{}}]');
    assert.equal(await text('/alert/datasetAlertTypesPerMonth?days=7'), '[{"datasetAlertsPerMonth":{}}]');
    const month = formatUtc(now).slice(0, 7);
    assert.equal(await text('/alert/topCountriesAttacks'), `[{"id":0,"date":"${month}","attacksPerCountry":[],"attacksToTargetCountry":[]}]`);
    const since = formatUtc(now).slice(0, 10);
    assert.equal(await text('/alert/retrieveLatLonAttacks'), `[{"statsSince":"${since}","latLonAttacks":[]}]`);
    assert.equal(await text('/alert/retrieveLatLonAttacks?direction=dst'), `[{"statsSince":"${since}","latLonAttacks":[]}]`);
  });

  it('TpotStats, getStats, tops', async () => {
    const yesterday = formatUtc(now - DAY).slice(0, 10);
    assert.equal(
      await text(`/alert/TpotStats?day=${yesterday.replace(/-/g, '')}`),
      '{"communityHoneypots":{"totalNumberAlerts":0,"totalNumberHoneypots":0,"totalNumberDaemons":0,"numberAlertsPerType":{},"numberHoneypotsPerType":{}},' +
      `"UTCtimeFrom":"${yesterday} 00:00:00","UTCtimeTo":"${yesterday} 23:59:59"}`,
    );
    // No snapshot in the range: DEFAULTRESPONSE, as the original.
    assert.equal(await text('/alert/getStats'), 'Nope');
    assert.equal(await text('/alert/getStats?values=Webpage'), 'Nope');
    for (const days of ['1', '7', '28']) {
      assert.equal(await text(`/alert/tops?type=urls&topx=5&days=${days}`), '{}');
      assert.equal(await text(`/alert/tops?type=destports&topx=5&days=${days}`), '{}');
    }
  });

  it('heartbeat', async () => {
    assert.equal(await text('/heartbeat'), "I'm alive");
    assert.equal(await text('/alert/heartbeat'), "I'm alive");
  });

  it('private endpoints: <Sources />, [], <Alerts />', async () => {
    const post = async (path: string): Promise<string> => {
      const reply = await fetchText(app.running.url + path, { method: 'POST', body: queryBody(user) });
      assert.equal(reply.status, 200, `${path}: ${reply.text}`);
      return reply.text;
    };
    const noSources = `${DECLARATION}<EWSSimpleIPInfo>\n  <Sources />\n</EWSSimpleIPInfo>\n`;
    const noAlerts = `${DECLARATION}<EWSSimpleAlertInfo>\n  <Alerts />\n</EWSSimpleAlertInfo>\n`;
    for (const prefix of ['/alert/', '/ews-0.1/alert/']) {
      assert.equal(await post(`${prefix}retrieveIPs`), noSources);
      assert.equal(await post(`${prefix}retrieveIPs15m`), noSources);
      assert.equal(await post(`${prefix}retrieveIPs?out=json`), '[]');
      assert.equal(await post(`${prefix}retrieveIPs15m?out=json`), '[]');
      assert.equal(await post(`${prefix}retrieveAlertsCyber`), noAlerts);
      assert.equal(await post(`${prefix}querySingleIP?ip=81.2.69.142`), noAlerts);
    }
  });
});

describe('retrieveAlertsJson', () => {
  describe('the newest 35 by recievedTime', () => {
    const app = useApp();
    const records: AlertRecord[] = [];

    before(async () => {
      const now = Date.now();
      // 40 alerts received 0..39 s ago, created in the opposite order (the oldest created last).
      for (let i = 0; i < 40; i++) {
        records.push(alertRecord({ recievedTime: formatUtc(now - i * SECOND), createTime: formatUtc(now - HOUR + i * SECOND), originalRequestString: `cmd${i}` }));
      }
      await app.store([...records].reverse());
    });

    it('35 entries, newest first, with the contract field names and types', async () => {
      const body = await app.get('/alert/retrieveAlertsJson') as { alerts: Array<Record<string, unknown>> };
      assert.deepEqual(Object.keys(body), ['alerts']);
      assert.equal(body.alerts.length, 35);
      assert.deepEqual(body.alerts.map((a) => a['id']), records.slice(0, 35).map((r) => r.id));
      assert.deepEqual(body.alerts.map((a) => a['dateCreated']), records.slice(0, 35).map((r) => r.document.recievedTime));
      const first = body.alerts[0]!;
      assert.deepEqual(Object.keys(first), [
        'id', 'dateCreated', 'country', 'countryName', 'targetCountry', 'sourceLat', 'sourceLng', 'destLat', 'destLng',
        'analyzerType', 'requestString', 'clientDomain',
      ]);
      assert.deepEqual(first, {
        id: records[0]!.id,
        dateCreated: records[0]!.document.recievedTime,
        country: 'GB',
        countryName: 'United Kingdom',
        targetCountry: 'SE',
        sourceLat: '51.5142',
        sourceLng: '-0.0931',
        destLat: '58.4167',
        destLng: '15.6167',
        analyzerType: 'SSH/console(cowrie)',
        requestString: 'd0',
        clientDomain: true,
      });
    });
  });

  describe('requestString, coordinates and clientDomain', () => {
    const app = useApp();
    const cases: Array<{ record: AlertRecord; requestString: string }> = [];

    before(async () => {
      const now = Date.now();
      let age = 0;
      const add = (doc: Parameters<typeof alertRecord>[0], requestString: string): void => {
        cases.push({ record: alertRecord({ ...at(now - ++age * SECOND), ...doc }), requestString });
      };
      const cowrie = { peerType: 'SSH/console(cowrie)', peerIdent: 'cowrie-01' };
      const heralding = { peerType: 'Passwords(heralding)', peerIdent: 'heralding-01' };
      add({ ...cowrie, originalRequestString: '', username: 'root', password: 'p%40ss%20word', login: 'Fail' },
        'Username: &quot;root&quot; | Password: &quot;p@ss word&quot; | Status: Fail');
      add({ ...cowrie, originalRequestString: '', username: '', password: '', login: 'Success' },
        'Username: &lt;none&gt; | Password: &lt;none&gt; | Status: Success');
      add({ ...cowrie, originalRequestString: '', username: 'a<b>&\'c', password: '"x"', login: 'Fail' },
        'Username: &quot;a&lt;b&gt;&amp;&#x27;c&quot; | Password: &quot;&quot;x&quot;&quot; | Status: Fail');
      add({ ...heralding, originalRequestString: '', username: 'admin', password: '' },
        'Username: &quot;admin&quot; | Password: &lt;none&gt;');
      add({ ...heralding, originalRequestString: '', username: '', password: 'se%2Fcret' },
        'Username: &lt;none&gt; | Password: &quot;se/cret&quot;');
      // Shell input: line breaks as "; ", the first two characters dropped.
      add({ ...cowrie, originalRequestString: '\nuname -a\nwget http://x/a.sh', username: 'root', password: 'x' },
        'uname -a; wget http://x/a.sh');
      add({ ...cowrie, originalRequestString: '\necho "<x>" & id', username: 'root' },
        'echo &quot;&lt;x&gt;&quot; &amp; id');
      // Anything else: URL-decoded, then HTML-escaped.
      add({ peerType: 'Webpage', peerIdent: 'glastopf-01', originalRequestString: '/index.php?q=%3Cscript%3Ealert(%27x%27)%3C/script%3E&a=%22b%22' },
        '/index.php?q=&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;a=&quot;b&quot;');
      add({ peerType: 'Network(honeytrap)', peerIdent: 'honeytrap-01', originalRequestString: 'Attack on port 23/tcp' }, 'Attack on port 23/tcp');
      add({ ...heralding, originalRequestString: 'login%20attempt' }, 'login attempt');
      await app.store(cases.map((c) => c.record));
      // Without locations (private/reserved or unknown addresses): the original's default point.
      await app.store([
        alertRecord({ ...at(now - 30 * SECOND), location: '0.0 , 0.0', locationDestination: '0.0 , 0.0', country: 'PIR', countryName: 'IANA Private IP Range', targetCountry: '-' }, 'f'.repeat(32)),
        alertRecord({ ...at(now - 31 * SECOND), location: '0.0 , 0.0', locationDestination: '-33.494 , 143.2104', clientDomain: false }, 'e'.repeat(32)),
      ]);
    });

    type Entry = Record<string, unknown>;
    const entries = async (query = ''): Promise<Map<string, Entry>> => {
      const body = await app.get(`/alert/retrieveAlertsJson${query}`) as { alerts: Entry[] };
      return new Map(body.alerts.map((a) => [a['id'] as string, a]));
    };

    it('the requestString rules, always HTML-escaped', async () => {
      const byId = await entries();
      for (const { record, requestString } of cases) {
        assert.equal(byId.get(record.id)?.['requestString'], requestString, JSON.stringify(record.document.originalRequestString));
      }
    });

    it('a location of 0.0 , 0.0 is shown as 50.708021/7.129191; coordinates are strings', async () => {
      const byId = await entries('?ci=-1');
      const zero = byId.get('f'.repeat(32))!;
      assert.deepEqual([zero['sourceLat'], zero['sourceLng'], zero['destLat'], zero['destLng']], ['50.708021', '7.129191', '50.708021', '7.129191']);
      assert.deepEqual([zero['country'], zero['countryName'], zero['targetCountry']], ['PIR', 'IANA Private IP Range', '-']);
      const half = byId.get('e'.repeat(32))!;
      assert.deepEqual([half['sourceLat'], half['sourceLng'], half['destLat'], half['destLng']], ['50.708021', '7.129191', '-33.494', '143.2104']);
      assert.equal(half['clientDomain'], false);
      assert.equal(zero['clientDomain'], true);
      for (const entry of byId.values()) {
        for (const key of ['sourceLat', 'sourceLng', 'destLat', 'destLng']) assert.equal(typeof entry[key], 'string', key);
        assert.equal(typeof entry['clientDomain'], 'boolean');
      }
    });
  });
});

describe('malformed parameters give DEFAULTRESPONSE', () => {
  const app = useApp();
  const BAD = [
    '/alert/retrieveAlertsCount',
    '/alert/retrieveAlertsCount?time=abc',
    '/alert/retrieveAlertsCount?time=-5',
    '/alert/retrieveAlertsCount?time=',
    '/alert/retrieveAlertsCount?time=1.5',
    '/alert/retrieveAlertsCount?time=10abc',
    '/alert/retrieveAlertsCount?time=Day&out=json',
    '/alert/retrieveAlertsCountWithType',
    '/alert/retrieveAlertsCountWithType?time=abc',
    '/alert/retrieveAlertsCountWithType?time=-5',
    '/alert/retrieveLatLonAttacks?direction=up',
    '/alert/retrieveLatLonAttacks?topx=0',
    '/alert/retrieveLatLonAttacks?topx=ten',
    '/alert/retrieveLatLonAttacks?offset=-1',
    '/alert/TpotStats',
    '/alert/TpotStats?day=20261399',
    '/alert/TpotStats?day=20260230',
    '/alert/TpotStats?day=2026-01-01',
    '/alert/TpotStats?day=2026011',
    '/alert/TpotStats?day=abc',
    '/alert/getStats?values=Bogus',
    '/alert/getStats?gte=yesterday',
    '/alert/getStats?lt=2019-01-22',
    '/alert/tops?type=urls&topx=0&days=1',
    '/alert/tops?type=urls&topx=31&days=1',
    '/alert/tops?type=urls&topx=abc&days=1',
    '/alert/tops?type=urls&topx=5&days=2',
    '/alert/tops?type=cves&topx=5&days=1',
    '/alert/tops?topx=5&days=1',
    '/alert/tops',
  ];

  for (const path of BAD) {
    it(`${path} -> Nope, 200`, async () => {
      const reply = await fetchText(app.running.url + path);
      assert.equal(reply.status, 200);
      assert.equal(reply.text, 'Nope');
    });
  }

  /** The endpoints whose answer is always JSON send it as the JSON string, as the original's jsonify. */
  const BAD_JSON = [
    '/alert/datasetAlertsPerMonth?days=abc',
    '/alert/datasetAlertsPerMonth?days=-1',
    '/alert/datasetAlertTypesPerMonth?days=x',
    '/alert/topCountriesAttacks?topx=0',
    '/alert/topCountriesAttacks?topx=abc',
    '/alert/topCountriesAttacks?monthOffset=-1',
    '/alert/topCountriesAttacks?offset=x',
  ];

  for (const path of BAD_JSON) {
    it(`${path} -> "Nope" as application/json, 200`, async () => {
      const reply = await fetchText(app.running.url + path);
      assert.equal(reply.status, 200);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(reply.text, '"Nope"');
      assert.equal(JSON.parse(reply.text), 'Nope');
    });
  }

  it('the edges that are valid: topx=1 and topx=30 for tops, days=0, offset=0', async () => {
    for (const path of ['/alert/tops?type=urls&topx=1&days=1', '/alert/tops?type=destports&topx=30&days=28', '/alert/datasetAlertsPerMonth?days=0', '/alert/retrieveLatLonAttacks?offset=0', '/alert/topCountriesAttacks?offset=0&topx=1']) {
      const reply = await fetchText(app.running.url + path);
      assert.notEqual(reply.text, 'Nope', path);
    }
  });
});

describe('DEFAULTRESPONSE is the configured value', () => {
  const app = useApp({ DEFAULTRESPONSE: 'Nein, danke & <tschüss>' });

  it('is sent as configured, with status 200', async () => {
    for (const path of ['/alert/retrieveAlertsCount?time=abc', '/alert/tops?type=urls&topx=31&days=1', '/alert/retrieveLatLonAttacks?direction=up', '/alert/TpotStats?day=20261399']) {
      const reply = await fetchText(app.running.url + path);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.text, 'Nein, danke & <tschüss>', path);
    }
  });

  it('the JSON endpoints send it as a JSON string', async () => {
    for (const path of ['/alert/datasetAlertsPerMonth?days=x', '/alert/datasetAlertTypesPerMonth?days=x', '/alert/topCountriesAttacks?topx=x']) {
      const reply = await fetchText(app.running.url + path);
      assert.equal(reply.status, 200, path);
      assert.equal(JSON.parse(reply.text), 'Nein, danke & <tschüss>', path);
    }
  });
});

describe('CORS and the root redirect', () => {
  const CORSDOMAIN = 'https://sicherheitstacho.example';
  // The original's `/` (the dashboard is off); test/dashboard.test.ts covers it on.
  const app = useApp({ CORSDOMAIN, DASHBOARD: 'off' });

  it('/alert/*: Access-Control-Allow-Origin is CORSDOMAIN, Access-Control-Allow-Credentials true', async () => {
    const replies = [
      await fetchText(`${app.running.url}/alert/retrieveAlertStats`),
      await fetchText(`${app.running.url}/alert/retrieveAlertsCount?time=abc`),
      await fetchText(`${app.running.url}/alert/retrieveAlertsCount?time=10`),
      await fetchText(`${app.running.url}/alert/heartbeat`),
      await fetchText(`${app.running.url}/alert/retrieveIPs`, { method: 'POST', body: 'x' }),
    ];
    for (const reply of replies) {
      assert.equal(reply.headers.get('access-control-allow-origin'), CORSDOMAIN);
      assert.equal(reply.headers.get('access-control-allow-credentials'), 'true');
    }
  });

  it('every response carries Access-Control-Allow-Credentials: true', async () => {
    for (const [path, init] of [
      ['/heartbeat', {}],
      ['/', {}],
      ['/no/such/path', {}],
      ['/ews-0.1/alert/postSimpleMessage', { method: 'POST', body: '<broken' }],
      ['/ews-0.1/alert/retrieveIPs', { method: 'POST', body: 'x' }],
    ] as Array<[string, RequestInit]>) {
      const reply = await fetchText(app.running.url + path, init);
      assert.equal(reply.headers.get('access-control-allow-credentials'), 'true', `${path} (${reply.status})`);
    }
  });

  it('/ redirects to CORSDOMAIN when DASHBOARD=off', async () => {
    const reply = await fetchText(`${app.running.url}/`);
    assert.ok(reply.status >= 300 && reply.status < 400, String(reply.status));
    assert.equal(reply.headers.get('location'), CORSDOMAIN);
  });
});

describe('heartbeat when the store is down', () => {
  let running: Awaited<ReturnType<typeof startApp>>;
  before(async () => {
    running = await startApp();
  });
  after(async () => {
    await running.close();
  });

  it("I'm alive while the store answers; 503 naming the store once it is closed", async () => {
    for (const path of ['/heartbeat', '/alert/heartbeat']) {
      const reply = await fetchText(running.url + path);
      assert.equal(reply.status, 200);
      assert.equal(reply.text, "I'm alive");
    }
    await running.app.store.close();
    for (const path of ['/heartbeat', '/alert/heartbeat']) {
      const reply = await fetchText(running.url + path);
      assert.equal(reply.status, 503, path);
      assert.equal(reply.text, 'down: store', path);
    }
    const json = await fetchText(`${running.url}/heartbeat?out=json`);
    assert.equal(json.status, 503);
    const state = JSON.parse(json.text) as { status: string; components: Record<string, { status: string }> };
    assert.equal(state.status, 'down');
    assert.equal(state.components['store']?.status, 'down');
    assert.equal(state.components['cache']?.status, 'up', 'the in-process cache is up while the process answers');
  });
});
