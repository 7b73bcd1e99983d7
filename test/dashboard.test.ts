/**
 * The dashboard's server side: the page and its assets with security headers, DASHBOARD=off,
 * the live stream (public and operator views, the client cap, slow clients dropped, alerts of
 * another instance), and operator sessions.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import { once } from 'node:events';
import { SessionSigner } from '../src/auth/sessions';
import { AlertStream } from '../src/stream/alert-stream';
import { ArrivalFeed } from '../src/stream/arrival-feed';
import type { StoredAlert } from '../src/domain/query';
import { CONTENT_SECURITY_POLICY } from '../src/api/security-headers';
import { createApp } from '../src/app';
import {
  addPrivateUser, alertRecord, alertRecords, alertXml, withStore, ewsMessage, fetchText, OK_REPLY, postMessage, startApp, testConfig, tempDir, type RunningApp,
} from './helpers';
import { openEventStream } from './event-stream';

const SOURCE = '81.2.69.142';

/** A message with one alert whose request string is `marker`, so a test can find it. */
function markedAlert(marker: string, source = SOURCE): string {
  return ewsMessage([alertXml({ analyzer: 'glastopf-community-01', source, requests: { url: encodeURIComponent(marker) }, targetPort: '80' })]);
}

async function signIn(url: string, username: string, token: string, headers: Record<string, string> = {}): Promise<{ status: number; cookie: string | null }> {
  const response = await fetch(`${url}/dashboard/session`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ user: username, token }),
  });
  await response.text();
  return { status: response.status, cookie: response.headers.get('set-cookie') };
}

/** Resolves once the app's stream has `count` clients (it learns of a closed connection asynchronously). */
async function untilClients(running: RunningApp, count: number): Promise<void> {
  while (running.app.stream.clientCount !== count) await new Promise((resolve) => setImmediate(resolve));
}

describe('dashboard page and assets', () => {
  let running: RunningApp;
  before(async () => { running = await startApp(); });
  after(async () => running.close());

  it('serves the page at / with the security headers and hashed assets cached for a year', async () => {
    const page = await fetchText(`${running.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    // No inline script or style in the page itself, and nothing from another host.
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son\w+=/i);
    assert.doesNotMatch(page.text, /(src|href)="(https?:)?\/\//);
    const assets = [...page.text.matchAll(/(?:src|href|data-map)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 4, 'icon, script, style sheet and map');
    for (const asset of assets) {
      assert.match(asset, /-[A-Za-z0-9_-]{8,}\.(js|css|json|svg)$/, 'named by content hash');
      const plain = await fetchText(running.url + asset);
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(plain.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      const zipped = await fetch(running.url + asset, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(zipped.headers.get('content-encoding'), 'gzip');
      assert.equal(await zipped.text(), plain.text, 'fetch unzips to the same bytes');
    }
  });

  it('answers 404 for an asset it does not have, with the security headers', async () => {
    const missing = await fetchText(`${running.url}/assets/app-doesnotexist.js`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-frame-options'), 'DENY');
    assert.equal((await fetchText(`${running.url}/`)).status, 200, 'still serving');
  });
});

describe('DASHBOARD=off', () => {
  it('redirects / to CORSDOMAIN, and never to itself', async () => {
    const elsewhere = await startApp({ DASHBOARD: 'off', CORSDOMAIN: 'https://dashboard.example.org' });
    try {
      const answer = await fetchText(`${elsewhere.url}/`);
      assert.equal(answer.status, 302);
      assert.equal(answer.headers.get('location'), 'https://dashboard.example.org');
    } finally {
      await elsewhere.close();
    }
    // CORSDOMAIN names this very server (as the Host it is asked by): a redirect would loop.
    const itself = await startApp({ DASHBOARD: 'off', CORSDOMAIN: 'http://peba.example.org/' });
    try {
      const answer = await itself.app.server.inject({ url: '/', headers: { host: 'peba.example.org' } });
      assert.equal(answer.statusCode, 404);
      assert.equal(answer.headers['location'], undefined);
      const fromElsewhere = await itself.app.server.inject({ url: '/', headers: { host: 'other.example.org' } });
      assert.equal(fromElsewhere.statusCode, 302);
    } finally {
      await itself.close();
    }
  });
});

describe('live stream', () => {
  let running: RunningApp;
  let user: { username: string; token: string };
  before(async () => {
    running = await startApp({ STREAM_MAX_CLIENTS: '3' });
    user = await addPrivateUser(running);
  });
  after(async () => running.close());

  it('carries a posted community alert as retrieveAlertsJson does, without the source address', async () => {
    const client = await openEventStream(`${running.url}/dashboard/stream`);
    try {
      assert.equal(client.status, 200);
      assert.match(client.headers.get('content-type')!, /^text\/event-stream/);
      assert.equal(client.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      const marker = '/stream/<img src=x onerror=alert(1)>';
      assert.equal((await postMessage(running.url, markedAlert(marker))).text, OK_REPLY);
      const event = await client.next((e) => e.data.includes('/stream/'));
      const entry = JSON.parse(event.data) as Record<string, unknown>;
      const [ticker] = ((await (await fetch(`${running.url}/alert/retrieveAlertsJson`)).json()) as { alerts: Array<Record<string, unknown>> }).alerts;
      assert.deepEqual(entry, ticker, 'the same entry as the ticker endpoint');
      assert.equal(entry['requestString'], '/stream/&lt;img src=x onerror=alert(1)&gt;');
      assert.ok(!client.raw().includes(SOURCE), 'no source address in the public stream');
    } finally {
      client.close();
    }
  });

  it('keeps private-domain alerts out of the public stream; the operator stream needs a session and carries them with addresses', async () => {
    const refused = await openEventStream(`${running.url}/dashboard/stream?view=operator`);
    assert.equal(refused.status, 401);
    const { cookie } = await signIn(running.url, user.username, user.token);
    const operator = await openEventStream(`${running.url}/dashboard/stream?view=operator`, { cookie: cookie!.split(';')[0]! });
    const visitor = await openEventStream(`${running.url}/dashboard/stream`);
    try {
      assert.equal(operator.status, 200);
      const privateAlert = ewsMessage([alertXml({ analyzer: 'glastopf-01', source: '81.2.69.160', requests: { url: '/private-only' } })], user);
      assert.equal((await postMessage(running.url, privateAlert)).text, OK_REPLY);
      assert.equal((await postMessage(running.url, markedAlert('/after-private'))).text, OK_REPLY);
      const seen = JSON.parse((await operator.next((e) => e.data.includes('/private-only'))).data) as Record<string, unknown>;
      assert.equal(seen['sourceEntryIp'], '81.2.69.160');
      assert.equal(seen['clientDomain'], false);
      await visitor.next((e) => e.data.includes('/after-private'));
      assert.ok(!visitor.raw().includes('/private-only'), 'the public stream never saw the private alert');
    } finally {
      operator.close();
      visitor.close();
    }
  });

  it('refuses clients beyond STREAM_MAX_CLIENTS with 503 and takes one again when a client leaves', async () => {
    // Clients of the tests before are gone once the server has seen their connections close.
    await untilClients(running, 0);
    const clients = await Promise.all([1, 2, 3].map(() => openEventStream(`${running.url}/dashboard/stream`)));
    try {
      assert.deepEqual(clients.map((c) => c.status), [200, 200, 200]);
      const extra = await openEventStream(`${running.url}/dashboard/stream`);
      assert.equal(extra.status, 503);
      assert.match((await fetchText(`${running.url}/metrics`)).text, /^peba_stream_clients 3$/m, 'the metrics gauge follows');
      clients.pop()!.close();
      await untilClients(running, 2);
      const again = await openEventStream(`${running.url}/dashboard/stream`);
      clients.push(again);
      assert.equal(again.status, 200);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

describe('alert stream fan-out', () => {
  let server: Server;
  let stream: AlertStream;
  let url: string;
  before(async () => {
    stream = new AlertStream({ maxClients: 10, maxQueuedBytes: 64 * 1024, flushMs: 0, maxPerFlush: 3 });
    server = createServer((request, response) => stream.attach(response, 'public'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  });
  after(async () => {
    stream.close();
    server.close();
  });

  it('sends a flood as an evenly spread sample and the count of the rest, serialized once for every client', async () => {
    const clients = [await openEventStream(url), await openEventStream(url)];
    try {
      while (stream.clientCount < 2) await new Promise((resolve) => setImmediate(resolve));
      const flood = Array.from({ length: 10 }, (_, i) => ({ ...alertRecord({ peerType: 'Webpage', originalRequestString: `/flood/${i}` }), id: `flood-${i}` }));
      stream.publish(flood);
      for (const client of clients) {
        await client.next((e) => e.event === 'skipped');
        const events = client.raw().split('\n\n').filter((block) => block.includes('flood') || block.startsWith('event: skipped'));
        assert.deepEqual(events.map((block) => /"id":"(flood-\d+)"/.exec(block)?.[1] ?? block), ['flood-0', 'flood-3', 'flood-6', 'event: skipped\ndata: 7']);
      }
      assert.equal(clients[0]!.raw(), clients[1]!.raw(), 'the same bytes for every client');
    } finally {
      for (const client of clients) client.close();
    }
  });

  it('drops a client that does not read, without waiting for it, while a reading client gets everything', async () => {
    const reader = await openEventStream(url);
    // A client that connects and never reads: its socket buffers fill up.
    const stalled = connect(Number(new URL(url).port), '127.0.0.1');
    stalled.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    stalled.pause();
    while (stream.clientCount < 2) await new Promise((resolve) => setImmediate(resolve));
    const big = alertRecord({ peerType: 'Webpage', originalRequestString: 'x'.repeat(16 * 1024) });
    let batches = 0;
    while (stream.droppedCount === 0) {
      // Synchronous, and never blocked by the stalled socket: the loop goes on until it is dropped.
      stream.publish([{ id: `${batches}`, document: { ...big.document, originalRequestString: `${batches}/${big.document.originalRequestString}` } }]);
      batches++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(stream.clientCount, 1, 'only the reader is left');
    await reader.next((e) => e.data.includes(`"${batches - 1}/x`));
    reader.close();
    stalled.destroy();
  });
});

describe('alert stream batches', () => {
  it('sends arrivals after a quiet spell at once, and then at most one batch per interval', async () => {
    // One alert per batch (the rest counted in a `skipped` event), so the events show the batches.
    const stream = new AlertStream({ maxClients: 10, flushMs: 1000, maxPerFlush: 1 });
    const server = createServer((request, response) => stream.attach(response, 'public'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const client = await openEventStream(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`);
    try {
      while (stream.clientCount < 1) await new Promise((resolve) => setImmediate(resolve));
      const alert = (name: string): StoredAlert => ({ ...alertRecord({ peerType: 'Webpage', originalRequestString: `/${name}` }), id: name });
      // The clock and timers are the test's while the batches are made; the sockets stay real.
      mock.timers.enable({ apis: ['Date', 'setTimeout'], now: Date.now() });
      try {
        stream.publish([alert('first')]);
        mock.timers.tick(0);
        stream.publish([alert('second')]);
        mock.timers.tick(999);
        stream.publish([alert('third')]);
        mock.timers.tick(1);
        stream.publish([alert('too-soon')]);
        mock.timers.tick(500);
        stream.close(); // ends the response with what was sent so far
      } finally {
        mock.timers.reset();
      }
      await assert.rejects(client.next(() => false), /the stream ended/);
      const sent = [...client.raw().matchAll(/"id":"([a-z-]+)"|event: skipped\ndata: (\d+)/g)].map((m) => m[1] ?? `skipped ${m[2]}`);
      assert.deepEqual(sent, ['first', 'second', 'skipped 1'], 'the first at once; the next two one interval later, together; the last not within half an interval');
    } finally {
      client.close();
      stream.close();
      server.close();
    }
  });
});

describe('an alert posted to one instance reaches the stream clients of another', () => {
  it('two instances on one store', async () => {
    const dir = tempDir();
    const apps = [0, 1].map(() => createApp(testConfig(dir.path, { STREAM_POLL_MS: '50' })));
    try {
      const urls: string[] = [];
      for (const app of apps) {
        await app.server.listen({ host: '127.0.0.1', port: 0 });
        const address = app.server.server.address();
        urls.push(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
      }
      const client = await openEventStream(`${urls[1]}/dashboard/stream`);
      try {
        assert.equal((await postMessage(urls[0]!, markedAlert('/posted-to-the-other-instance'))).text, OK_REPLY);
        await client.next((e) => e.data.includes('/posted-to-the-other-instance'));
      } finally {
        client.close();
      }
    } finally {
      for (const app of apps) await app.close();
      dir.remove();
    }
  });
});

describe('operator sessions', () => {
  let running: RunningApp;
  let user: { username: string; token: string };
  before(async () => {
    running = await startApp({ TRUST_PROXY: '127.0.0.1' });
    user = await addPrivateUser(running);
    assert.equal((await postMessage(running.url, markedAlert('/for-the-operator', '81.2.69.142'))).text, OK_REPLY);
  });
  after(async () => running.close());

  it('refuses a wrong token, the community credentials and a form post; the operator data needs a session', async () => {
    assert.equal((await signIn(running.url, user.username, 'wrong')).status, 403);
    assert.equal((await signIn(running.url, 'community-01-user', 'foth{a5maiCee8fineu7')).status, 403);
    const form = await fetch(`${running.url}/dashboard/session`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=${user.username}&token=${user.token}`,
    });
    assert.equal(form.status, 400);
    assert.equal(form.headers.get('set-cookie'), null);
    for (const path of ['newest', 'bad-ips', 'bad-ips.txt', 'sensors', 'single-ip?ip=81.2.69.142']) {
      const answer = await fetchText(`${running.url}/dashboard/operator/${path}`);
      assert.equal(answer.status, 401, path);
      assert.ok(!answer.text.includes(SOURCE));
    }
    assert.deepEqual(JSON.parse((await fetchText(`${running.url}/dashboard/session`)).text), { user: null });
  });

  it('signs in with the right token: an HttpOnly, SameSite=Strict, expiring cookie (Secure over HTTPS) opens the operator data', async () => {
    const { status, cookie } = await signIn(running.url, user.username, user.token);
    assert.equal(status, 200);
    assert.match(cookie!, /^peba_session=[^;]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    assert.ok(!cookie!.includes(user.token));
    const secure = await signIn(running.url, user.username, user.token, { 'x-forwarded-proto': 'https' });
    assert.match(secure.cookie!, /; Secure$/);
    const headers = { cookie: cookie!.split(';')[0]! };
    const get = async (path: string): Promise<unknown> => {
      const answer = await fetchText(`${running.url}${path}`, { headers });
      assert.equal(answer.status, 200, path);
      return answer.headers.get('content-type')!.startsWith('application/json') ? JSON.parse(answer.text) : answer.text;
    };
    assert.deepEqual(await get('/dashboard/session'), { user: user.username });
    assert.deepEqual(await get('/dashboard/operator/bad-ips'), [{ ip: SOURCE, count: 1 }]);
    assert.equal(await get('/dashboard/operator/bad-ips.txt'), `${SOURCE}\n`);
    const newest = (await get('/dashboard/operator/newest')) as { alerts: Array<Record<string, unknown>> };
    assert.equal(newest.alerts[0]!['sourceEntryIp'], SOURCE);
    const single = (await get('/dashboard/operator/single-ip?ip=81.2.69.142')) as Array<Record<string, unknown>>;
    assert.equal(single[0]!['request'], '/for-the-operator');
    const sensors = (await get('/dashboard/operator/sensors')) as { sensors: Array<Record<string, unknown>> };
    assert.equal(sensors.sensors.length, 1);
    assert.equal(sensors.sensors[0]!['lastDay'], 1);
    assert.equal(sensors.sensors[0]!['lastHour'], 1);
    assert.equal(sensors.sensors[0]!['stale'], false);

    // A changed token ends the session; a tampered cookie is refused.
    const [name, value] = headers.cookie.split('=') as [string, string];
    const tampered = value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await fetchText(`${running.url}/dashboard/operator/bad-ips`, { headers: { cookie: `${name}=${tampered}` } })).status, 401);
    const signOut = await fetch(`${running.url}/dashboard/session`, { method: 'DELETE', headers });
    assert.match(signOut.headers.get('set-cookie')!, /^peba_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
  });

  it('a session expires, and a new token ends it', () => {
    let now = 1_000_000;
    const signer = new SessionSigner('secret', 60_000, () => now);
    const value = signer.issue('acme', 'hash-1');
    assert.equal(signer.verify(value, 'hash-1'), true);
    assert.equal(signer.verify(value, 'hash-2'), false, 'token changed');
    assert.equal(new SessionSigner('other secret', 60_000, () => now).verify(value, 'hash-1'), false, 'another secret');
    now += 60_000;
    assert.equal(signer.verify(value, 'hash-1'), false, 'expired');
  });
});

describe('arrival feed', () => {
  it('reads at most a page per look and, after a flood, goes on from the alerts stored since', async () => {
    await withStore(async (store) => {
      const batches: StoredAlert[][] = [];
      let looked: () => void = () => {};
      const nextLook = (): Promise<void> => new Promise((resolve) => { looked = resolve; });
      const feed = new ArrivalFeed(store, (alerts) => batches.push([...alerts]), { pollMs: 3_600_000, pageSize: 5, onRead: () => looked() });
      try {
        let look = nextLook();
        feed.setActive(true);
        await look; // the starting point: nothing stored yet
        const flood = alertRecords(12);
        await store.storeAlerts(flood);
        look = nextLook();
        feed.nudge();
        await look;
        assert.deepEqual(batches.map((b) => b.map((a) => a.id)), [flood.slice(0, 5).map((r) => r.id)]);
        const after = alertRecords(2);
        await store.storeAlerts(after);
        look = nextLook();
        feed.nudge();
        await look;
        assert.deepEqual(batches[1]!.map((a) => a.id), after.map((r) => r.id), 'the rest of the flood is skipped, what came after is not');
      } finally {
        feed.stop();
      }
    });
  });

  it('a listener who comes back within minIntervalMs gets every alert stored after it came', async () => {
    await withStore(async (store) => {
      const batches: StoredAlert[][] = [];
      let looked: () => void = () => {};
      const nextLook = (): Promise<void> => new Promise((resolve) => { looked = resolve; });
      mock.timers.enable({ apis: ['Date', 'setTimeout'], now: Date.now() });
      const feed = new ArrivalFeed(store, (alerts) => batches.push([...alerts]), { pollMs: 3_600_000, minIntervalMs: 1000, onRead: () => looked() });
      try {
        let look = nextLook();
        feed.setActive(true);
        await look;
        feed.setActive(false);
        feed.setActive(true); // back at once: its starting point must not wait for minIntervalMs
        const stored = alertRecords(2);
        await store.storeAlerts(stored);
        look = nextLook();
        feed.nudge();
        mock.timers.tick(1000);
        await look;
        assert.deepEqual(batches.map((b) => b.map((a) => a.id)), [stored.map((r) => r.id)]);
      } finally {
        feed.stop();
        mock.timers.reset();
      }
    });
  });
});
