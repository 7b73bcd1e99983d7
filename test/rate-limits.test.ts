/**
 * Brute-force limit on failed authentications (ingest, private endpoints, feeds) and the
 * optional per-address limit of the public endpoints (hit lane included), with a frozen clock
 * (mock.timers) moved by hand. Client addresses come from X-Forwarded-For through TRUST_PROXY.
 */
import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import {
  COMMUNITY, addPrivateUser, alertXml, ewsMessage, queryBody, startApp, type RunningApp,
} from './helpers';

const NOW = Date.parse('2026-11-30T12:00:00.000Z');

function post(peba: RunningApp, path: string, body: string, client: string): Promise<Response> {
  return fetch(`${peba.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/xml', 'x-forwarded-for': client } });
}

describe('failed authentications per client address', () => {
  let peba: RunningApp;
  let user: { username: string; token: string };
  let warnings: ReturnType<typeof mock.method>;

  before(async () => {
    mock.timers.enable({ apis: ['Date'], now: NOW });
    peba = await startApp({ AUTH_FAILURES_PER_MINUTE: '3', TRUST_PROXY: 'loopback' });
    user = await addPrivateUser(peba, 'sensor-owner', 'Right-T0ken');
    warnings = mock.method(peba.app.server.log, 'warn');
  });
  after(async () => {
    await peba.close();
    mock.timers.reset();
  });

  const ingest = '/ews-0.1/alert/postSimpleMessage';
  const wrong = (n: number): string => ewsMessage([alertXml({ source: `81.2.69.${150 + n}` })], { username: 'sensor-owner', token: `guess-${n}` });

  test('after the limit: 429 with Retry-After, nothing stored; valid senders are not slowed', async () => {
    const client = '198.51.100.7';
    // The owner posts once from the address before the guessing starts.
    const own = ewsMessage([alertXml({ source: '81.2.69.142', targetPort: '2201' })], user);
    assert.equal((await post(peba, ingest, own, client)).status, 200);
    for (let n = 0; n < 3; n++) assert.equal((await post(peba, ingest, wrong(n), client)).status, 403);
    const limitLines = () => warnings.mock.calls.filter((call) => /authentication failures limit reached/.test(String(call.arguments[1])));
    assert.equal(limitLines().length, 1, 'logged once when the limit was reached');
    assert.deepEqual(limitLines()[0]!.arguments[0], { client: client, limit: 3 });
    const before = await peba.app.store.countAlerts();

    const limited = await post(peba, ingest, wrong(3), client);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '60');
    assert.match(await limited.text(), /<StatusCode>Failed<\/StatusCode><Text>too many failed authentications/);
    // The right token of a user never seen from this address is not even checked meanwhile.
    const stranger = await addPrivateUser(peba, 'other-user', 'Other-T0ken');
    assert.equal((await post(peba, ingest, ewsMessage([alertXml()], stranger), client)).status, 429);
    assert.equal(await peba.app.store.countAlerts(), before, 'nothing stored while limited');

    // The community (public credentials) and the owner (authenticated from here before) pass.
    assert.equal((await post(peba, ingest, ewsMessage([alertXml({ source: '81.2.69.143' })], COMMUNITY), client)).status, 200);
    assert.equal((await post(peba, ingest, ewsMessage([alertXml({ source: '81.2.69.144' })], user), client)).status, 200);
    assert.equal(await peba.app.store.countAlerts(), before + 2);
    // Another address is not affected.
    assert.equal((await post(peba, ingest, ewsMessage([alertXml()], stranger), '198.51.100.8')).status, 200);

    mock.timers.tick(30_000);
    const later = await post(peba, ingest, wrong(4), client);
    assert.equal(later.status, 429);
    assert.equal(later.headers.get('retry-after'), '30');
    mock.timers.tick(30_000);
    assert.equal((await post(peba, ingest, wrong(5), client)).status, 403, 'a minute after the first failure counted, guesses are checked again');
    assert.equal(limitLines().length, 1, 'not logged again while limited');
  });

  test('messages without credentials are refused but not counted as guesses', async () => {
    const client = '198.51.100.9';
    for (let n = 0; n < 5; n++) assert.equal((await post(peba, ingest, ewsMessage([alertXml()], { username: '', token: '' }), client)).status, 403);
    assert.equal((await post(peba, ingest, wrong(0), client)).status, 403);
  });

  test('the private endpoints and the feeds share the limit of the address', async () => {
    const client = '198.51.100.10';
    const guess = queryBody({ username: 'sensor-owner', token: 'nope' });
    assert.equal((await post(peba, '/alert/retrieveIPs', guess, client)).status, 403);
    assert.equal((await post(peba, '/alert/querySingleIP?ip=81.2.69.142', guess, client)).status, 403);
    const feed = (token: string) => fetch(`${peba.url}/feed/badips.txt`, {
      headers: { authorization: `Basic ${Buffer.from(`sensor-owner:${token}`).toString('base64')}`, 'x-forwarded-for': client },
    });
    assert.equal((await feed('nope')).status, 401);
    const limited = await post(peba, '/alert/retrieveAlertsCyber', queryBody(user), client);
    assert.equal(limited.status, 429, 'the owner never authenticated from this address');
    assert.equal(limited.headers.get('retry-after'), '60');
    assert.equal(await limited.text(), 'Too many failed authentications from this address, retry later');
    const limitedFeed = await feed('Right-T0ken');
    assert.equal(limitedFeed.status, 429);
    assert.equal(limitedFeed.headers.get('retry-after'), '60');
    // The server still answers others.
    assert.equal((await post(peba, '/alert/retrieveAlertsCyber', queryBody(user), '198.51.100.11')).status, 200);
  });

  test('the metrics count the refusals: three at ingest, one private, one feed', async () => {
    const text = await (await fetch(`${peba.url}/metrics`)).text();
    assert.match(text, /^peba_auth_limited_total 5$/m);
    assert.match(text, /^peba_messages_refused_total\{status="429"\} 3$/m);
  });
});

describe('PUBLIC_RATE_LIMIT', () => {
  let peba: RunningApp;
  before(async () => {
    mock.timers.enable({ apis: ['Date'], now: NOW });
    peba = await startApp({ PUBLIC_RATE_LIMIT: '5', TRUST_PROXY: 'loopback', CACHE: 'on' });
  });
  after(async () => {
    await peba.close();
    mock.timers.reset();
  });

  const get = (path: string, client: string) => fetch(`${peba.url}${path}`, { headers: { 'x-forwarded-for': client } });

  test('cache hits answered before routing count; the 429 carries Retry-After; other addresses unaffected', async () => {
    const statuses: Array<[number, string | null]> = [];
    for (let i = 0; i < 6; i++) {
      const reply = await get('/alert/retrieveAlertStats', '203.0.113.1');
      statuses.push([reply.status, reply.headers.get('x-cache')]);
      if (i === 5) {
        assert.equal(reply.headers.get('retry-after'), '60');
        assert.equal(await reply.text(), 'Too many requests from this address, retry later');
      } else {
        await reply.text();
      }
    }
    // The first computed the answer, the next four were hits of the lane, the sixth refused by it.
    assert.deepEqual(statuses, [[200, 'miss'], [200, 'hit'], [200, 'hit'], [200, 'hit'], [200, 'hit'], [429, null]]);
    assert.equal((await get('/alert/retrieveAlertStats', '203.0.113.2')).status, 200);
    assert.equal((await get('/heartbeat', '203.0.113.1')).status, 200, 'the heartbeat (load balancers) is not limited');
  });

  test('requests that reach Fastify count too, and the window moves on', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await get(`/alert/retrieveAlertsCount?time=${i + 1}`, '203.0.113.3')).status, 200);
    const refused = await get('/alert/retrieveAlertsCount?time=9', '203.0.113.3');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60');
    mock.timers.tick(60_000);
    assert.equal((await get('/alert/retrieveAlertsCount?time=9', '203.0.113.3')).status, 200);
  });
});

describe('PUBLIC_RATE_LIMIT off (the default)', () => {
  test('no limit on public endpoints', async () => {
    const peba = await startApp({ CACHE: 'on' });
    try {
      for (let i = 0; i < 30; i++) assert.equal((await fetch(`${peba.url}/alert/retrieveAlertStats`)).status, 200);
    } finally {
      await peba.close();
    }
  });
});
