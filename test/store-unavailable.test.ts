/**
 * A store that cannot answer (an OpenSearch node down, a SQLite store closed) makes every
 * endpoint that needs it answer 503 with `Retry-After` in the endpoint's own body shape, never a
 * 500 or a stack trace; the outage is logged once, and the server keeps answering (heartbeat 503).
 */
import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startLogged, type LogCapture } from './log-capture';
import { join } from 'node:path';
import { COMMUNITY, tempDir, alertXml, ewsMessage, queryBody, type RunningApp } from './helpers';
import { assertConforms, fetchOpenApi } from './openapi-conformance';
import { sha512Hex } from '../src/auth/tokens';

/** A loopback port nothing listens on: one a server just opened and closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

const PUBLIC = [
  '/alert/retrieveAlertsCount?time=10', '/alert/retrieveAlertsCountWithType?time=10', '/alert/retrieveAlertStats',
  '/alert/retrieveAlertsJson', '/alert/datasetAlertsPerMonth', '/alert/datasetAlertTypesPerMonth', '/alert/topCountriesAttacks',
  '/alert/retrieveLatLonAttacks', '/alert/TpotStats?day=20240101', '/alert/getStats', '/alert/getStats?values=Webpage&gte=2019-01-22+15%3A00%3A00&lt=2019-01-22+16%3A30%3A00',
  '/alert/tops?type=urls&topx=5&days=1',
];
// retrieveAlertsCyber answers XML whatever `out` says, and so does its 503.
const PRIVATE = ['/alert/retrieveIPs', '/alert/retrieveIPs15m', '/alert/retrieveAlertsCyber', '/alert/retrieveAlertsCyber?out=json', '/alert/querySingleIP?ip=8.8.8.8'];

const STORE_DOWN_XML = '<Result><StatusCode>Failed</StatusCode><Text>store unavailable</Text></Result>';

function assertUnavailable(answer: { status: number; headers: Headers }, text: string, what: string): void {
  assert.equal(answer.status, 503, `${what}: ${text}`);
  assert.equal(answer.headers.get('retry-after'), '10', what);
  assert.doesNotMatch(text, /\bat .*\(|Error:|internal error/, `${what}: no stack, no generic error`);
}

/** With `session` (an operator's cookie taken while the store answered), the dashboard's operator endpoints too. */
async function checkEveryEndpoint(running: RunningApp, log: LogCapture, session?: string): Promise<void> {
  // Every 503 is also one the OpenAPI document lists for its operation (status, headers, body).
  const document = await fetchOpenApi(running.url);
  for (const path of PUBLIC) {
    const answer = await fetch(running.url + path);
    const text = await answer.text();
    assertUnavailable(answer, text, path);
    assertConforms(document, 'GET', path, answer, text);
    if (path.startsWith('/alert/retrieveAlertsCount?')) {
      assert.match(answer.headers.get('content-type') ?? '', /text\/xml/, path);
      assert.match(text, new RegExp(STORE_DOWN_XML), path);
    } else {
      assert.match(answer.headers.get('content-type') ?? '', /application\/json/, path);
      assert.equal(JSON.parse(text), 'store unavailable', path);
    }
  }
  const json = await fetch(`${running.url}/alert/retrieveAlertsCount?time=10&out=json`);
  const jsonText = await json.text();
  assertUnavailable(json, jsonText, 'out=json');
  assert.equal(JSON.parse(jsonText), 'store unavailable');
  assertConforms(document, 'GET', '/alert/retrieveAlertsCount', json, jsonText);
  for (const path of PRIVATE) {
    for (const prefix of ['', '/ews-0.1']) {
      const answer = await fetch(running.url + prefix + path, { method: 'POST', body: queryBody({ username: 'private-query-user', token: 'Priv4te-T0ken' }) });
      const text = await answer.text();
      assertUnavailable(answer, text, prefix + path);
      assert.match(answer.headers.get('content-type') ?? '', /text\/xml/, path);
      assert.match(text, new RegExp(STORE_DOWN_XML), path);
      assertConforms(document, 'POST', prefix + path, answer, text);
    }
  }
  const feed = await fetch(`${running.url}/feed/badips.txt`, { headers: { authorization: `Basic ${Buffer.from('private-query-user:Priv4te-T0ken').toString('base64')}` } });
  const feedText = await feed.text();
  assertUnavailable(feed, feedText, 'feed');
  assert.equal(feedText, 'store unavailable\n');
  assertConforms(document, 'GET', '/feed/badips.txt', feed, feedText);
  if (session !== undefined) {
    for (const [path, type] of [['/dashboard/operator/newest', /application\/json/], ['/dashboard/operator/bad-ips.txt', /text\/plain/]] as const) {
      const answer = await fetch(running.url + path, { headers: { cookie: session } });
      const text = await answer.text();
      assertUnavailable(answer, text, path);
      assert.match(answer.headers.get('content-type') ?? '', type, path);
      assertConforms(document, 'GET', path, answer, text);
    }
  }
  const post = await fetch(`${running.url}/ews-0.1/alert/postSimpleMessage`, { method: 'POST', body: ewsMessage([alertXml()], COMMUNITY) });
  const postText = await post.text();
  assertUnavailable(post, postText, 'ingest');
  assert.match(postText, /<Result><StatusCode>Handling failed<\/StatusCode><Text>store unavailable<\/Text><\/Result>/);
  assertConforms(document, 'POST', '/ews-0.1/alert/postSimpleMessage', post, postText);
  // The server still answers, and says why it cannot serve.
  const heartbeat = await fetch(`${running.url}/heartbeat`);
  assert.equal(heartbeat.status, 503);
  assert.equal(await heartbeat.text(), 'down: store');
  // Logged when the outage began, not once per request; never as an unhandled error.
  assert.equal(log.lines.filter((line) => line['msg'] === 'store unavailable: answering 503 until it is back').length, 1);
  assert.equal(log.lines.filter((line) => line['msg'] === 'unhandled error').length, 0);
}

describe('OpenSearch node unreachable (a closed loopback port)', () => {
  let running: RunningApp & { log: LogCapture };
  before(async () => {
    // ELASTICTIMEOUT bounds each request; a refused connection fails at once anyway.
    running = await startLogged({ STORE: `opensearch+http://127.0.0.1:${await closedPort()}`, ELASTICTIMEOUT: '5' });
  });
  after(() => running.close());

  test('every endpoint answers 503 in its own shape, the heartbeat 503 down: store', () => checkEveryEndpoint(running, running.log));
});

describe('SQLite store closed', () => {
  let dir: ReturnType<typeof tempDir>;
  let running: RunningApp & { log: LogCapture };
  let session = '';
  before(async () => {
    dir = tempDir();
    // SQLite whichever store the endpoint tests run on.
    running = await startLogged({ STORE: `sqlite:${join(dir.path, 'peba.db')}` });
    await running.app.store.putUser({ peerName: 'private-query-user', tokenHash: sha512Hex('Priv4te-T0ken'), community: false, getOnly: false, email: '' });
    const signIn = await fetch(`${running.url}/dashboard/session`, {
      method: 'POST', body: JSON.stringify({ user: 'private-query-user', token: 'Priv4te-T0ken' }), headers: { 'content-type': 'application/json' },
    });
    assert.equal(signIn.status, 200);
    session = (signIn.headers.get('set-cookie') ?? '').split(';', 1)[0]!;
    await running.app.store.close();
  });
  after(async () => { await running.close(); dir.remove(); });

  test('every endpoint answers 503 in its own shape, the heartbeat 503 down: store', () => checkEveryEndpoint(running, running.log, session));
});
