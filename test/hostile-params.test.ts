/**
 * Every parameter of every endpoint, sent hostile values: prototype names, empty, repeated,
 * negative, huge, unicode, 10 KB, NUL, broken percent-encoding. Each must get DEFAULTRESPONSE or a
 * documented answer, never a 5xx, and the server must keep answering (issue 10, item 1).
 * Run with the answer cache off (every request reaches the store) and on (keys, hit lane).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { addPrivateUser, alertRecord, at, ewsMessage, alertXml, fetchText, queryBody, TEST_STORE_KIND, useApp, type FetchedText } from './helpers';

interface Endpoint {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Valid values of every parameter the endpoint reads; each is replaced in turn by a hostile one. */
  readonly params: Readonly<Record<string, string>>;
  /** Asked with the operator's session cookie (the dashboard's endpoints). */
  readonly signedIn?: true;
  /** Answers plain text lines (the firewall list), not XML or JSON. */
  readonly plainText?: true;
}

const PUBLIC: Endpoint[] = [
  { method: 'GET', path: '/alert/retrieveAlertsCount', params: { time: '60', out: 'json', ci: '0' } },
  { method: 'GET', path: '/alert/retrieveAlertsCountWithType', params: { time: 'day', ci: '-1' } },
  { method: 'GET', path: '/alert/retrieveAlertStats', params: { ci: '0' } },
  { method: 'GET', path: '/alert/retrieveAlertsJson', params: { ci: '-1' } },
  { method: 'GET', path: '/alert/datasetAlertsPerMonth', params: { days: '7', ci: '0' } },
  { method: 'GET', path: '/alert/datasetAlertTypesPerMonth', params: { days: '7', ci: '0' } },
  { method: 'GET', path: '/alert/topCountriesAttacks', params: { monthOffset: '1', offset: '1', topx: '5', ci: '0' } },
  { method: 'GET', path: '/alert/retrieveLatLonAttacks', params: { direction: 'dst', topx: '5', offset: '1', ci: '0' } },
  { method: 'GET', path: '/alert/TpotStats', params: { day: '20261127' } },
  { method: 'GET', path: '/alert/getStats', params: { values: 'Webpage,SSH/console(cowrie)', value: 'Webpage', gte: '2026-11-01 00:00:00', lt: '2026-12-01 00:00:00' } },
  { method: 'GET', path: '/alert/tops', params: { type: 'urls', topx: '5', days: '7', ci: '0' } },
  { method: 'GET', path: '/heartbeat', params: { out: 'json' } },
  { method: 'GET', path: '/alert/heartbeat', params: { out: 'json' } },
];
const PRIVATE: Endpoint[] = ['/alert/', '/ews-0.1/alert/'].flatMap((prefix): Endpoint[] => [
  { method: 'POST', path: `${prefix}retrieveIPs`, params: { ci: '0', out: 'json' } },
  { method: 'POST', path: `${prefix}retrieveIPs15m`, params: { ci: '-1', out: 'json' } },
  { method: 'POST', path: `${prefix}retrieveAlertsCyber`, params: { ci: '0' } },
  { method: 'POST', path: `${prefix}querySingleIP`, params: { ip: '81.2.69.142', ci: '-1' } },
]);
const DASHBOARD: Endpoint[] = [
  { method: 'GET', path: '/dashboard/session', params: {}, signedIn: true },
  { method: 'GET', path: '/dashboard/operator/newest', params: { ci: '-1' }, signedIn: true },
  { method: 'GET', path: '/dashboard/operator/bad-ips', params: { ci: '-1' }, signedIn: true },
  { method: 'GET', path: '/dashboard/operator/bad-ips.txt', params: { ci: '-1' }, signedIn: true, plainText: true },
  { method: 'GET', path: '/dashboard/operator/single-ip', params: { ip: '81.2.69.142', ci: '-1' }, signedIn: true },
  { method: 'GET', path: '/dashboard/operator/sensors', params: { ci: '-1' }, signedIn: true },
];
const INGEST: Endpoint = { method: 'POST', path: '/ews-0.1/alert/postSimpleMessage', params: { ci: '0' } };

/** Raw query-string text of each hostile value (already percent-encoded where needed). */
const HOSTILE: ReadonlyArray<readonly [string, string]> = [
  ['__proto__', '__proto__'], ['constructor', 'constructor'], ['valueOf', 'valueOf'],
  ['hasOwnProperty', 'hasOwnProperty'], ['toString', 'toString'], ['__defineGetter__', '__defineGetter__'],
  ['empty', ''], ['negative', '-1'], ['-0', '-0'], ['1e309', '1e309'], ['2^53+1', '9007199254740993'], ['NaN', 'NaN'],
  ['unicode', encodeURIComponent('ü€\u{1F600}\u202e')], ['10 KB', 'A'.repeat(10 * 1024)], ['NUL', '%00'], ['NUL inside', '1%000'],
  ['broken UTF-8', '%E0%A4%A'], ['lone surrogate', '%ED%A0%80'], ['lone %', '%'], ['plus', '+1+'], ['brackets', '[]'],
];

function queryString(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.length === 0 ? '' : `?${pairs.map(([name, raw]) => `${name}=${raw}`).join('&')}`;
}

/** For an endpoint, every variant: each parameter hostile (alone and among valid ones), repeated, absent; hostile names. */
function variants(endpoint: Endpoint): string[] {
  const valid = Object.entries(endpoint.params);
  const urls = [queryString([]), queryString(valid)];
  for (const [name, good] of valid) {
    const others = valid.filter(([other]) => other !== name);
    for (const [, raw] of HOSTILE) {
      urls.push(queryString([[name, raw]]), queryString([...others, [name, raw]]));
    }
    urls.push(queryString([...others, [name, good], [name, '__proto__']]), queryString([...others, [name, 'constructor'], [name, good]]));
    urls.push(queryString([...others, ...Array.from({ length: 200 }, () => [name, good] as const)]));
  }
  for (const name of ['__proto__', 'constructor', 'hasOwnProperty', '%00', encodeURIComponent('ü')]) urls.push(queryString([...valid, [name, '1']]));
  return urls.map((query) => endpoint.path + query);
}

const DEFAULTRESPONSE = 'Nope';

/** DEFAULTRESPONSE (as text or JSON string), or an answer in the endpoint's documented form. */
function assertDocumentedAnswer(endpoint: Endpoint, url: string, reply: FetchedText): void {
  assert.equal(reply.status, 200, `${url.slice(0, 200)}: ${reply.status} ${reply.text.slice(0, 200)}`);
  const text = reply.text;
  if (endpoint.plainText) {
    assert.match(reply.headers.get('content-type') ?? '', /^text\/plain/);
    return;
  }
  if (text === DEFAULTRESPONSE || text === JSON.stringify(DEFAULTRESPONSE) || text === "I'm alive") return;
  if (text.startsWith('<?xml version="1.0" encoding="UTF-8"?><EWSSimple') || text === '<Result><StatusCode>OK</StatusCode><Text></Text></Result>') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    assert.fail(`${url.slice(0, 200)}: neither DEFAULTRESPONSE nor a documented answer: ${text.slice(0, 200)}`);
  }
  assert.ok(typeof parsed === 'object' && parsed !== null && !('statusCode' in parsed && 'error' in parsed), `${url.slice(0, 200)}: ${text.slice(0, 200)}`);
}

// The answer cache sits above the store and is the same on every store: its pass (the slower
// one) runs on SQLite only, so the OpenSearch pass of `npm test` stays short.
const CACHE_MODES = TEST_STORE_KIND === 'sqlite' ? (['off', 'on'] as const) : (['off'] as const);

for (const cache of CACHE_MODES) {
  describe(`hostile parameters (CACHE=${cache})`, () => {
    const app = useApp({ CACHE: cache, DEFAULTRESPONSE });
    let body = '';
    let session = '';

    before(async () => {
      const user = await addPrivateUser(app.running);
      body = queryBody(user);
      const signIn = await fetch(`${app.running.url}/dashboard/session`, {
        method: 'POST', body: JSON.stringify({ user: user.username, token: user.token }), headers: { 'content-type': 'application/json' },
      });
      assert.equal(signIn.status, 200);
      session = (signIn.headers.get('set-cookie') ?? '').split(';', 1)[0]!;
      await app.store([alertRecord(at(Date.now())), alertRecord({ ...at(Date.now()), clientDomain: false })]);
    });

    async function ask(endpoint: Endpoint, url: string): Promise<FetchedText> {
      const init: RequestInit = endpoint === INGEST
        ? { method: 'POST', body: ewsMessage([alertXml()]), headers: { 'content-type': 'text/xml' } }
        : endpoint.method === 'POST' ? { method: 'POST', body, headers: { 'content-type': 'text/xml' } }
        : endpoint.signedIn ? { headers: { cookie: session } } : {};
      return fetchText(app.running.url + url, init);
    }

    for (const endpoint of [...PUBLIC, ...PRIVATE, ...DASHBOARD, INGEST]) {
      it(`${endpoint.method} ${endpoint.path}: DEFAULTRESPONSE or a documented answer, never a 5xx`, async () => {
        for (const url of variants(endpoint)) {
          const reply = await ask(endpoint, url);
          assertDocumentedAnswer(endpoint, url, reply);
          // With the cache on the second GET may come from the hit lane: the same answer.
          if (cache === 'on' && endpoint.method === 'GET' && !endpoint.path.endsWith('heartbeat')) {
            const again = await ask(endpoint, url);
            assert.equal(again.status, reply.status, url.slice(0, 200));
            assert.equal(again.text, reply.text, url.slice(0, 200));
          }
        }
      });
    }

    it('credentials named like prototype properties are refused (403), nothing stored', async () => {
      for (const name of ['__proto__', 'constructor', 'hasOwnProperty', '']) {
        const credentials = { username: name, token: name };
        const ingest = await fetchText(app.running.url + INGEST.path, { method: 'POST', body: ewsMessage([alertXml({ source: '81.2.69.150' })], credentials) });
        assert.equal(ingest.status, 403, `${name}: ${ingest.text}`);
        const query = await fetchText(`${app.running.url}/alert/retrieveIPs`, { method: 'POST', body: queryBody(credentials) });
        assert.equal(query.status, 403, name);
      }
      assert.deepEqual(await app.running.app.store.newestFromSource('both', '81.2.69.150', 5), []);
    });

    it('the server still answers, and counts what it stored', async () => {
      const heartbeat = await fetchText(`${app.running.url}/heartbeat`);
      assert.equal(heartbeat.status, 200);
      const count = await fetchText(`${app.running.url}/alert/retrieveAlertsCount?time=1440&out=json&ci=-1`);
      // Two stored directly, and one (the same alert every time) posted by the ingest variants.
      assert.deepEqual(JSON.parse(count.text), { AlertCount: 3 });
    });
  });
}

describe('values from the data named like prototype properties', () => {
  const app = useApp({ DEFAULTRESPONSE });
  const names = ['__proto__', 'constructor', 'toString'];

  before(async () => {
    const now = Date.now();
    await app.store(names.flatMap((name) => [
      alertRecord({ ...at(now), peerType: 'Webpage', originalRequestString: name }),
      alertRecord({ ...at(now), peerType: name }),
    ]));
  });

  it('are keys of the answers like any other (tops, datasets, counts per type, TpotStats)', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const own = (value: unknown, key: string): unknown => (Object.hasOwn(value as object, key) ? (value as Record<string, unknown>)[key] : undefined);
    const tops = await app.get('/alert/tops?type=urls&topx=30&days=1');
    for (const name of names) assert.equal(own(own(tops, name), 'total'), 1, `tops: ${name}`);
    const [types] = (await app.get('/alert/datasetAlertTypesPerMonth?days=1')) as Array<{ datasetAlertsPerMonth: Record<string, unknown> }>;
    const day = own(types!.datasetAlertsPerMonth, `${today} 00:00:00`);
    for (const name of names) assert.equal(own(day, name), 1, `datasetAlertTypesPerMonth: ${name}`);
    const perType = (await app.get('/alert/retrieveAlertsCountWithType?time=60')) as { AlertCountPerType: unknown };
    for (const name of names) assert.equal(own(perType.AlertCountPerType, name), 1, `retrieveAlertsCountWithType: ${name}`);
  });
});
