/**
 * The log an operator reads (issue 10, item 9): one access line per request, hit-lane hits
 * included, switchable off; refused logins with username and client address, never the token;
 * every 4xx of the ingest path with its reason; ISO timestamps; configuration warnings in the
 * same JSON log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { loggablePath } from '../src/api/access-log';
import { type LogCapture, type LogLine, startLogged } from './log-capture';
import { addPrivateUser, alertXml, COMMUNITY, ewsMessage, fetchText, queryBody, REPO_ROOT, tempDir, type RunningApp } from './helpers';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const requestLine = (path: string, status: number) => (line: LogLine) => line['msg'] === 'request' && line['path'] === path && line['status'] === status;

describe('access log (ACCESS_LOG=on, the default)', () => {
  let running: RunningApp & { log: LogCapture };
  before(async () => {
    running = await startLogged({ CACHE: 'on', TRUST_PROXY: 'loopback' });
  });
  after(async () => running.close());

  it('one line per request: method, path, status, duration, bytes, client address; ISO time', async () => {
    const reply = await fetchText(`${running.url}/alert/retrieveAlertsCount?time=60`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    const line = await running.log.next(requestLine('/alert/retrieveAlertsCount?time=60', 200));
    assert.equal(line['method'], 'GET');
    assert.equal(line['bytes'], Buffer.byteLength(reply.text));
    assert.equal(typeof line['ms'], 'number');
    assert.equal(line['client'], '203.0.113.9', 'the client X-Forwarded-For names, the peer being a trusted proxy');
    assert.equal(line['level'], 30);
    assert.match(String(line['time']), ISO_TIME);
    assert.equal(running.log.lines.filter(requestLine('/alert/retrieveAlertsCount?time=60', 200)).length, 1);
  });

  it('answers from the hit lane are logged too', async () => {
    const path = '/alert/retrieveAlertsCount?time=61&out=json';
    await fetchText(running.url + path);
    const hit = await fetchText(running.url + path);
    assert.equal(hit.headers.get('x-cache'), 'hit', 'the second answer came from the hit lane');
    const first = await running.log.next(requestLine(path, 200));
    const second = await running.log.next((line) => requestLine(path, 200)(line) && line !== first);
    assert.equal(second['client'], '127.0.0.1');
    assert.equal(second['bytes'], Buffer.byteLength(hit.text));
    assert.match(String(second['time']), ISO_TIME);
    assert.equal(running.log.lines.filter(requestLine(path, 200)).length, 2);
  });

  it('the path is logged without secret-looking parameters, and cut when long', async () => {
    await fetchText(`${running.url}/alert/tops?type=urls&token=s3cret&api_key=k3y&days=1`);
    await running.log.next(requestLine('/alert/tops?type=urls&token=***&api_key=***&days=1', 200));
    assert.ok(!JSON.stringify(running.log.lines).includes('s3cret'));
    assert.ok(!JSON.stringify(running.log.lines).includes('k3y'));
    assert.equal(loggablePath(`/alert/tops?x=${'A'.repeat(10_000)}`).length, 515);
  });

  it('unknown paths and refusals are logged with their status', async () => {
    await fetchText(`${running.url}/no/such/path`);
    await running.log.next(requestLine('/no/such/path', 404));
  });
});

describe('ACCESS_LOG=off', () => {
  let running: RunningApp & { log: LogCapture };
  before(async () => {
    running = await startLogged({ ACCESS_LOG: 'off', CACHE: 'on' });
  });
  after(async () => running.close());

  it('no access lines, neither from Fastify nor from the hit lane; other lines stay', async () => {
    for (let i = 0; i < 3; i++) await fetchText(`${running.url}/alert/retrieveAlertsCount?time=60`);
    await fetchText(`${running.url}/ews-0.1/alert/postSimpleMessage`, { method: 'POST', body: '' });
    await running.log.next((line) => line['msg'] === 'message refused');
    assert.deepEqual(running.log.lines.filter((line) => line['msg'] === 'request'), []);
  });
});

describe('refusals', () => {
  let running: RunningApp & { log: LogCapture };
  let user: { username: string; token: string };
  before(async () => {
    running = await startLogged({ BODY_LIMIT: '2048', MAX_ALERTS_PER_MESSAGE: '1' });
    user = await addPrivateUser(running, 'soc-user', 'Right-T0ken');
  });
  after(async () => running.close());

  const refusedLogin = (username: string) => (line: LogLine) => line['msg'] === 'login refused' && line['username'] === username;

  it('a refused login at the ingest path: warn, username and client address, never the token', async () => {
    const reply = await fetchText(`${running.url}/ews-0.1/alert/postSimpleMessage`, {
      method: 'POST', body: ewsMessage([alertXml()], { username: 'stale-sensor', token: 'Wr0ng-T0ken-1' }),
    });
    assert.equal(reply.status, 403);
    const line = await running.log.next(refusedLogin('stale-sensor'));
    assert.equal(line['level'], 40);
    assert.equal(line['client'], '127.0.0.1');
    assert.ok(!JSON.stringify(running.log.lines).includes('Wr0ng-T0ken-1'));
  });

  it('a refused login at a private endpoint: the same, with the reason', async () => {
    for (const [credentials, reason] of [
      [{ username: user.username, token: 'Wr0ng-T0ken-2' }, 'wrong username or token'],
      [COMMUNITY, 'community credentials may not query'],
    ] as const) {
      const reply = await fetchText(`${running.url}/alert/retrieveIPs`, { method: 'POST', body: queryBody(credentials) });
      assert.equal(reply.status, 403);
      const line = await running.log.next(refusedLogin(credentials.username));
      assert.equal(line['client'], '127.0.0.1');
      assert.equal(line['reason'], reason);
      assert.equal(line['path'], '/alert/retrieveIPs');
    }
    const ok = await fetchText(`${running.url}/alert/retrieveIPs`, { method: 'POST', body: queryBody(user) });
    assert.equal(ok.status, 200);
    assert.ok(!JSON.stringify(running.log.lines).includes('Wr0ng-T0ken-2'));
    assert.ok(!JSON.stringify(running.log.lines).includes(COMMUNITY.token));
  });

  it('a refused sign-in at the dashboard: the same', async () => {
    const reply = await fetchText(`${running.url}/dashboard/session`, {
      method: 'POST', body: JSON.stringify({ user: 'dash-guesser', token: 'Wr0ng-T0ken-3' }), headers: { 'content-type': 'application/json' },
    });
    assert.equal(reply.status, 403);
    const line = await running.log.next(refusedLogin('dash-guesser'));
    assert.equal(line['client'], '127.0.0.1');
    assert.equal(line['path'], '/dashboard/session');
    assert.ok(!JSON.stringify(running.log.lines).includes('Wr0ng-T0ken-3'));
  });

  it('every 4xx of the ingest path is logged with its reason', async () => {
    const path = '/ews-0.1/alert/postSimpleMessage';
    const cases: Array<[RequestInit, number, RegExp]> = [
      [{ method: 'POST', body: '' }, 400, /empty request body/],
      [{ method: 'POST', body: '<EWS-SimpleMessage' }, 400, /./],
      [{ method: 'POST', body: ewsMessage([alertXml(), alertXml()]) }, 413, /alerts/],
      [{ method: 'POST', body: ewsMessage([alertXml({ requests: { url: 'A'.repeat(4096) } })]) }, 413, /larger than 2048 bytes/],
      [{ method: 'GET' }, 405, /GET instead of POST/],
      [{ method: 'POST', body: ewsMessage([alertXml()], { username: 'nobody', token: 'x' }) }, 403, /Authentication failed/],
    ];
    for (const [init, status, reason] of cases) {
      const before = running.log.lines.length;
      const reply = await fetchText(running.url + path, init);
      assert.equal(reply.status, status, reply.text);
      const refusal = (l: LogLine) => l['msg'] === 'message refused' || l['msg'] === 'method not allowed';
      const line = await running.log.next((l) => running.log.lines.indexOf(l) >= before && refusal(l) && l['status'] === status);
      assert.match(String(line['reason']), reason);
      assert.equal(line['client'], '127.0.0.1');
    }
  });
});

describe('peba start', () => {
  it('logs its warnings about the configuration file in the same JSON log, with ISO timestamps', async () => {
    const dir = tempDir();
    const file = join(dir.path, 'peba.cfg');
    writeFileSync(file, `STORE="sqlite:${join(dir.path, 'peba.db')}"\nBINDHOST="127.0.0.1:0"\nOLD_KEY="x"\n`);
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/src/cli/main.js'), '--config', file, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const lines: LogLine[] = [];
      for await (const text of createInterface({ input: child.stdout })) {
        lines.push(JSON.parse(text) as LogLine);
        if (String(lines.at(-1)!['msg']).startsWith('PEBA serving')) break;
      }
      const warning = lines.find((line) => String(line['msg']).includes('unknown key OLD_KEY'));
      assert.ok(warning, JSON.stringify(lines));
      assert.equal(warning['level'], 40);
      for (const line of lines) assert.match(String(line['time']), ISO_TIME);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      dir.remove();
    }
  });
});
