/** The hit lane: fresh cached answers served before routing, everything else left to Fastify. */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, mock, test } from 'node:test';
import { HitLane, serverWithHitLane } from '../src/api/hit-lane';
import { ResponseCache, type CachedAnswer } from '../src/cache/response-cache';
import { alertRecords, useApp } from './helpers';


interface RawReply {
  readonly status: number;
  /** Header names and values in the order they were sent, without Date. */
  readonly headers: string[];
  readonly body: string;
}

function send(url: string, method = 'GET'): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const headers: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (res.rawHeaders[i]!.toLowerCase() !== 'date') headers.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        }
        resolve({ status: res.statusCode ?? 0, headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const header = (reply: RawReply, name: string): string | undefined =>
  reply.headers.find((line) => line.toLowerCase().startsWith(`${name}: `))?.slice(name.length + 2);

describe('HitLane in front of a fallback handler', () => {
  const cache = new ResponseCache({ shared: null, staleSeconds: 60 });
  const lane = new HitLane(cache, 'https://dashboard.example');
  const fallbackUrls: string[] = [];
  let server: Server;
  let base: string;
  const fallback = (req: IncomingMessage, res: ServerResponse): void => {
    fallbackUrls.push(`${req.method} ${req.url}`);
    res.writeHead(299, { 'content-type': 'text/plain' }).end('fallback');
  };
  const put = (key: string, ttlSeconds: number, body: string): Promise<unknown> =>
    cache.answer(key, ttlSeconds, async (): Promise<CachedAnswer> => ({ status: 200, type: 'application/json; charset=utf-8', body }));

  before(async () => {
    server = serverWithHitLane(lane)(fallback, { keepAliveTimeout: 5000, requestTimeout: 0, connectionTimeout: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a remembered URL with a fresh answer is served by the lane, with the route\'s headers', async () => {
    await put('k1', 60, '{"n":"ü"}');
    lane.remember('/alert/x?a=1', 'k1', '/alert/test');
    fallbackUrls.length = 0;
    const reply = await send(`${base}/alert/x?a=1`);
    assert.deepEqual(fallbackUrls, []);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '{"n":"ü"}');
    assert.deepEqual(reply.headers.slice(0, 5), [
      'content-type: application/json; charset=utf-8',
      'x-cache: hit',
      'access-control-allow-credentials: true',
      'access-control-allow-origin: https://dashboard.example',
      `content-length: ${Buffer.byteLength('{"n":"ü"}')}`,
    ]);
  });

  test('unknown URLs, other spellings, methods other than GET and unknown keys go to the fallback', async () => {
    await put('k2', 60, '{}');
    lane.remember('/alert/y', 'k2', '/alert/test');
    lane.remember('/alert/nothing-cached', 'no-such-key', '/alert/test');
    fallbackUrls.length = 0;
    for (const [path, method] of [['/alert/y?b=2', 'GET'], ['/alert/Y', 'GET'], ['/alert/y', 'HEAD'], ['/alert/y', 'POST'], ['/alert/nothing-cached', 'GET']] as const) {
      assert.equal((await send(`${base}${path}`, method)).status, 299, `${method} ${path}`);
    }
    assert.deepEqual(fallbackUrls, ['GET /alert/y?b=2', 'GET /alert/Y', 'HEAD /alert/y', 'POST /alert/y', 'GET /alert/nothing-cached']);
  });

  test('an expired answer is left to the fallback (which serves it stale and refreshes it)', async () => {
    // Lifetimes are read from Date.now(): a mock clock moves past this one instead of waiting.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      await put('k3', 0.05, '{"old":true}');
      lane.remember('/alert/z', 'k3', '/alert/test');
      assert.equal((await send(`${base}/alert/z`)).status, 200);
      mock.timers.tick(50);
      fallbackUrls.length = 0;
      assert.equal((await send(`${base}/alert/z`)).status, 299);
      assert.deepEqual(fallbackUrls, ['GET /alert/z']);
    } finally {
      mock.timers.reset();
    }
  });

  test('junk query strings cannot grow its memory without bound', async () => {
    await put('k4', 60, '{}');
    for (let i = 0; i < 10_001; i++) lane.remember(`/alert/junk?${i}`, 'k4', '/alert/test');
    fallbackUrls.length = 0;
    assert.equal((await send(`${base}/alert/junk?0`)).status, 299, 'forgotten when the memory was full');
    assert.equal((await send(`${base}/alert/junk?10000`)).status, 200, 'remembered after it was cleared');
  });

  test('a header Node refuses sends the request to the fallback instead of throwing', async () => {
    const badLane = new HitLane(cache, 'https://bad.example\r\nX-Injected: 1');
    await put('k6', 60, '{}');
    badLane.remember('/alert/v', 'k6', '/alert/test');
    const badServer = serverWithHitLane(badLane)(fallback, { keepAliveTimeout: 5000, requestTimeout: 0, connectionTimeout: 0 });
    await new Promise<void>((resolve) => badServer.listen(0, '127.0.0.1', resolve));
    try {
      fallbackUrls.length = 0;
      const reply = await send(`http://127.0.0.1:${(badServer.address() as AddressInfo).port}/alert/v`);
      assert.equal(reply.status, 299);
      assert.equal(header(reply, 'x-injected'), undefined);
      assert.deepEqual(fallbackUrls, ['GET /alert/v']);
    } finally {
      await new Promise<void>((resolve) => badServer.close(() => resolve()));
    }
  });

  test('once closed, everything goes to the fallback', async () => {
    await put('k5', 60, '{}');
    lane.remember('/alert/w', 'k5', '/alert/test');
    assert.equal((await send(`${base}/alert/w`)).status, 200);
    lane.close();
    assert.equal((await send(`${base}/alert/w`)).status, 299);
  });
});

describe('HitLane in the server', () => {
  const group = useApp({ CACHE: 'on' });
  // A quote in the data: the lane must send the very bytes the route's formatter wrote.
  before(() => group.store(alertRecords(3, { peerType: 'Webpage', originalRequestString: '/a"&x=1' })));

  test('a hit from the lane is byte for byte the hit the route sends', async () => {
    const url = `${group.running.url}/alert/retrieveAlertsCount?time=10&out=json`;
    const miss = await send(url);
    assert.equal(header(miss, 'x-cache'), 'miss');
    // Another spelling of the same question: the route answers it from the cache and tells the
    // lane, which answers the next request for that spelling.
    const routeHit = await send(`${url}&junk=1`);
    const laneHit = await send(`${url}&junk=1`);
    assert.equal(header(routeHit, 'x-cache'), 'hit');
    assert.deepEqual(laneHit, routeHit);
    assert.equal(laneHit.body, miss.body);
    assert.deepEqual(JSON.parse(laneHit.body), { AlertCount: 3 });
  });

  test('a lane hit carrying a quote in its data is byte for byte the route\'s hit', async () => {
    const url = `${group.running.url}/alert/retrieveAlertsJson`;
    const miss = await send(url);
    const routeHit = await send(`${url}?junk=1`);
    const laneHit = await send(`${url}?junk=1`);
    assert.equal(header(routeHit, 'x-cache'), 'hit');
    assert.deepEqual(laneHit, routeHit);
    assert.equal(laneHit.body, miss.body);
    const ticker = JSON.parse(laneHit.body) as { alerts: Array<{ requestString: string }> };
    assert.deepEqual(ticker.alerts.map((a) => a.requestString), Array(3).fill('/a&quot;&amp;x=1'));
  });
});
