/**
 * Around the endpoints (issue 10, item 3): CORS preflights as flask_cors answered them, 405 with
 * `Allow` for a known path asked with another method, one XML 404 for unknown paths, and `GET /`
 * never redirecting to itself.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { before, describe, it } from 'node:test';
import { addPrivateUser, fetchText, queryBody, startApp, useApp } from './helpers';

const CORSDOMAIN = 'https://dashboard.example';
const NOT_FOUND = '<Result><StatusCode>Failed</StatusCode><Text>Not Found</Text></Result>';

/** A request with headers fetch would not send as given (Host). */
function rawRequest(url: string, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const request = httpRequest({ host: hostname, port, method, path, headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
    });
    request.on('error', reject).end();
  });
}

describe('CORS preflight (OPTIONS) on /alert/* and /ews-0.1/alert/*', () => {
  const app = useApp({ CORSDOMAIN });
  let credentials: { username: string; token: string };
  before(async () => {
    credentials = await addPrivateUser(app.running);
  });

  const preflight = (path: string, method: string, headers?: string) => fetchText(app.running.url + path, {
    method: 'OPTIONS',
    headers: { origin: CORSDOMAIN, 'access-control-request-method': method, ...(headers !== undefined && { 'access-control-request-headers': headers }) },
  });

  for (const [path, method, allowed] of [
    ['/alert/retrieveIPs', 'POST', 'POST, OPTIONS'],
    ['/ews-0.1/alert/querySingleIP', 'POST', 'POST, OPTIONS'],
    ['/ews-0.1/alert/postSimpleMessage', 'POST', 'POST, OPTIONS'],
    ['/alert/tops', 'GET', 'GET, HEAD, OPTIONS'],
  ] as const) {
    it(`${path}: 200, the origin, credentials, the methods, the requested headers echoed, a max age`, async () => {
      const reply = await preflight(`${path}?ci=0`, method, 'Content-Type, X-Requested-With');
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, '');
      assert.equal(reply.headers.get('access-control-allow-origin'), CORSDOMAIN);
      assert.equal(reply.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(reply.headers.get('access-control-allow-methods'), allowed);
      assert.equal(reply.headers.get('allow'), allowed);
      assert.equal(reply.headers.get('access-control-allow-headers'), 'Content-Type, X-Requested-With');
      assert.equal(reply.headers.get('access-control-max-age'), '7200');
      assert.equal(reply.headers.get('vary'), 'Origin');
    });
  }

  it('requested headers that are not a list of header names are not echoed', async () => {
    for (const headers of ['a b', 'x,,y', '"quoted"', 'x'.repeat(2000)]) {
      const reply = await preflight('/alert/retrieveIPs', 'POST', headers);
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.get('access-control-allow-headers'), null, headers.slice(0, 20));
    }
    const none = await preflight('/alert/retrieveIPs', 'POST');
    assert.equal(none.headers.get('access-control-allow-headers'), null);
  });

  it('the private answer the browser then asks for carries the origin, under both prefixes', async () => {
    for (const prefix of ['/alert', '/ews-0.1/alert']) {
      const reply = await fetchText(`${app.running.url}${prefix}/retrieveIPs`, { method: 'POST', body: queryBody(credentials), headers: { origin: CORSDOMAIN } });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.get('access-control-allow-origin'), CORSDOMAIN, prefix);
      assert.equal(reply.headers.get('access-control-allow-credentials'), 'true');
    }
  });

  it('OPTIONS elsewhere: 200 with Allow, no CORS origin; unknown paths: 404', async () => {
    const heartbeat = await fetchText(`${app.running.url}/heartbeat`, { method: 'OPTIONS' });
    assert.equal(heartbeat.status, 200);
    assert.equal(heartbeat.headers.get('allow'), 'GET, HEAD, OPTIONS');
    assert.equal(heartbeat.headers.get('access-control-allow-origin'), null);
    const unknown = await preflight('/alert/noSuchThing', 'POST', 'content-type');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.text, NOT_FOUND);
  });
});

describe('wrong methods and unknown paths', () => {
  const app = useApp();

  it('a retrieval endpoint asked with the wrong method: 405 with Allow', async () => {
    for (const [method, path, allow, text] of [
      ['GET', '/alert/retrieveIPs', 'POST, OPTIONS', 'POST is required for this action.'],
      ['GET', '/ews-0.1/alert/retrieveAlertsCyber?ci=0', 'POST, OPTIONS', 'POST is required for this action.'],
      ['PUT', '/alert/querySingleIP?ip=1.2.3.4', 'POST, OPTIONS', 'POST is required for this action.'],
      ['POST', '/alert/tops?type=urls', 'GET, HEAD, OPTIONS', 'GET is required for this action.'],
      ['DELETE', '/alert/retrieveAlertsCount', 'GET, HEAD, OPTIONS', 'GET is required for this action.'],
      ['PATCH', '/heartbeat', 'GET, HEAD, OPTIONS', 'GET is required for this action.'],
      ['POST', '/', 'GET, HEAD, OPTIONS', 'GET is required for this action.'],
    ] as const) {
      const reply = await fetchText(app.running.url + path, { method, ...(method !== 'GET' && { body: 'x' }) });
      assert.equal(reply.status, 405, `${method} ${path}`);
      assert.equal(reply.headers.get('allow'), allow, `${method} ${path}`);
      assert.equal(reply.text, text);
      assert.match(reply.headers.get('content-type') ?? '', /^text\/plain/);
    }
  });

  it('unknown paths: one XML 404 body, whatever the method; a malformed path: XML 400', async () => {
    for (const [method, path] of [
      ['GET', '/nothing'], ['POST', '/alert/nothing'], ['GET', '/alert/constructor'], ['GET', '/alert/__proto__'],
      ['PUT', '/ews-0.1/alert/'], ['DELETE', '/alert'], ['GET', '/alert/tops/'], ['GET', `/${'a'.repeat(5000)}`],
    ] as const) {
      const reply = await fetchText(app.running.url + path, { method, ...(method !== 'GET' && { body: 'x' }) });
      assert.equal(reply.status, 404, `${method} ${path.slice(0, 40)}`);
      assert.equal(reply.text, NOT_FOUND);
      assert.match(reply.headers.get('content-type') ?? '', /^text\/xml/);
    }
    const malformed = await fetchText(`${app.running.url}/alert/%zz`);
    assert.equal(malformed.status, 400);
    assert.equal(malformed.text, '<Result><StatusCode>Failed</StatusCode><Text>malformed URL</Text></Result>');
    assert.equal((await fetchText(`${app.running.url}/heartbeat`)).status, 200);
  });
});

describe('GET / with DASHBOARD=off', () => {
  it('never redirects to itself: with the default CORSDOMAIN (this server) it answers without a redirect', async () => {
    const running = await startApp({ CORSDOMAIN: 'http://127.0.0.1:9922', DASHBOARD: 'off' });
    try {
      const reply = await rawRequest(running.url, 'GET', '/', { host: '127.0.0.1:9922' });
      assert.ok(reply.status < 300 || reply.status >= 400, `${reply.status}`);
      assert.equal(reply.headers['location'], undefined);
      // Asked under another name, the same CORSDOMAIN is another site: redirect.
      const elsewhere = await rawRequest(running.url, 'GET', '/', { host: 'peba.example:9922' });
      assert.equal(elsewhere.status, 302);
      assert.equal(elsewhere.headers['location'], 'http://127.0.0.1:9922');
    } finally {
      await running.close();
    }
  });

  it('behind a TLS proxy (https CORSDOMAIN, the same host) it does not redirect either; another page: it does', async () => {
    const running = await startApp({ CORSDOMAIN: 'https://peba.example', DASHBOARD: 'off' });
    try {
      const same = await rawRequest(running.url, 'GET', '/', { host: 'peba.example' });
      assert.equal(same.headers['location'], undefined);
      const other = await rawRequest(running.url, 'GET', '/', { host: 'api.peba.example' });
      assert.equal(other.status, 302);
      assert.equal(other.headers['location'], 'https://peba.example');
    } finally {
      await running.close();
    }
    const dashboard = await startApp({ CORSDOMAIN: 'https://peba.example/dashboard/', DASHBOARD: 'off' });
    try {
      const reply = await rawRequest(dashboard.url, 'GET', '/', { host: 'peba.example' });
      assert.equal(reply.status, 302, 'another page of the same host is not a loop');
      assert.equal(reply.headers['location'], 'https://peba.example/dashboard/');
    } finally {
      await dashboard.close();
    }
  });
});
