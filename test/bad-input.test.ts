/**
 * Bad input on POST /ews-0.1/alert/postSimpleMessage (CONTRACT section 2): every refusal is a
 * clear status with a `<Result>` reply, stores nothing, harms nothing stored before, and leaves
 * the server serving the next good message. Bad alerts inside a good message are skipped alone.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sha512Hex } from '../src/auth/tokens';
import type { DomainScope } from '../src/domain/query';
import { alertXml, COMMUNITY, ewsMessage, OK_REPLY, postMessage, readFixture, startApp, TEST_STORE_KIND, type AlertSpec, type RunningApp } from './helpers';

const INGEST = '/ews-0.1/alert/postSimpleMessage';
const BASELINE = 'cowrie-bad-input-baseline';
const BASELINE_ALERTS = 3;

/**
 * An app under test, and its alerts counted per analyzer id through the store interface
 * (`sensorsReceived`: goodAlerts names the sensor after the analyzer), so the same checks run on
 * SQLite and on OpenSearch.
 */
interface Harness {
  readonly running: RunningApp;
  /** Alerts stored from this analyzer (received in the last hour). */
  rows(analyzer: string): Promise<number>;
  /** The domains its alerts were stored in: `clientDomain` true (community), false (private). */
  domains(analyzer: string): Promise<boolean[]>;
  close(): Promise<void>;
}

/** Starts an app and stores the baseline message. */
async function harness(overrides: Parameters<typeof startApp>[0] = {}): Promise<Harness> {
  const running = await startApp(overrides);
  const sensorAlerts = async (scope: DomainScope, analyzer: string): Promise<number> => {
    const now = Date.now();
    const sensors = await running.app.store.sensorsReceived(scope, { from: now - 3_600_000, to: now + 60_000 });
    return sensors.find((sensor) => sensor.sensor === analyzer)?.alerts ?? 0;
  };
  const h: Harness = {
    running,
    rows: (analyzer) => sensorAlerts('both', analyzer),
    async domains(analyzer) {
      const found: boolean[] = [];
      if (await sensorAlerts('private', analyzer) > 0) found.push(false);
      if (await sensorAlerts('community', analyzer) > 0) found.push(true);
      return found;
    },
    close: () => running.close(),
  };
  try {
    const reply = await postMessage(running.url, ewsMessage(goodAlerts(BASELINE, BASELINE_ALERTS)));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.text, OK_REPLY);
    assert.equal(await h.rows(BASELINE), BASELINE_ALERTS);
  } catch (error) {
    await h.close();
    throw error;
  }
  return h;
}

let sequence = 0;
/** An analyzer id no other message of this file uses (cowrie, so it classifies). */
function uniqueAnalyzer(tag: string): string {
  return `cowrie-bad-${tag}-${++sequence}`;
}

/** `count` valid, distinct alerts from `analyzer`, on a sensor (hostname) of the same name. */
function goodAlerts(analyzer: string, count: number, spec: AlertSpec = {}): string[] {
  return Array.from({ length: count }, (_, i) => alertXml({
    analyzer, createTime: `2026-11-27 10:00:${String(i).padStart(2, '0')}`, ...spec, additional: { hostname: analyzer, ...spec.additional },
  }));
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Splits a `<Result>` reply into its status code and (unescaped) text, or fails the test. */
function parseResult(text: string): { code: string; text: string } {
  const match = /^<Result><StatusCode>([^<]*)<\/StatusCode><Text>([^<]*)<\/Text><\/Result>$/.exec(text);
  assert.ok(match, `not a <Result> reply: ${JSON.stringify(text.slice(0, 300))}`);
  const unescape = (s: string): string => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => XML_ENTITIES[name]!);
  return { code: unescape(match[1]!), text: unescape(match[2]!) };
}

interface Reply {
  readonly status: number;
  readonly text: string;
  readonly contentType: string;
}

async function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'text/xml' }): Promise<Reply> {
  const response = await fetch(url + INGEST, { method: 'POST', body, headers });
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') ?? '' };
}

/** A POST through node:http, so that no content type (or any raw header set) can be sent. */
function rawPost(url: string, body: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url + INGEST, { method: 'POST', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({
        status: response.statusCode ?? 0,
        text: Buffer.concat(chunks).toString('utf8'),
        contentType: String(response.headers['content-type'] ?? ''),
      }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * A POST of `body` of which only the first `upTo` bytes are ever sent: then the client closes its
 * side (the server may still answer). A server that decides from those bytes answers; one that
 * needed the rest sees the body end early. Raw, because an HTTP client would not send less than
 * the Content-Length it declares.
 */
function postOnlyTheStart(url: string, body: string, upTo: number): Promise<Reply> {
  const { hostname, port } = new URL(url);
  const bytes = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.destroy();
      const answer = Buffer.concat(chunks).toString('utf8');
      const split = answer.indexOf('\r\n\r\n');
      const head = answer.slice(0, Math.max(0, split));
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        text: split < 0 ? answer : answer.slice(split + 4),
        contentType: /^content-type: *(.*)$/im.exec(head)?.[1] ?? '',
      });
    });
    socket.write(`POST ${INGEST} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: text/xml\r\nContent-Length: ${bytes.length}\r\n\r\n`);
    socket.end(bytes.subarray(0, upTo));
  });
}

/** The baseline is intact and a good message is still stored and acknowledged. */
async function assertStillServing(h: Harness): Promise<void> {
  assert.equal(await h.rows(BASELINE), BASELINE_ALERTS, 'alerts stored before are still there');
  const analyzer = uniqueAnalyzer('after');
  const before = await h.running.app.store.countAlerts();
  const reply = await postMessage(h.running.url, ewsMessage(goodAlerts(analyzer, 2)));
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.text, OK_REPLY);
  assert.equal(await h.running.app.store.countAlerts(), before + 2, 'a good message afterwards is stored');
  assert.equal(await h.rows(analyzer), 2);
}

/**
 * Posts `body`, expects `status` with a `<Result><StatusCode>Failed</StatusCode><Text>reason`
 * reply matching `reason`, nothing stored, and the server still serving.
 */
async function assertRefused(
  h: Harness,
  body: string,
  status: number,
  reason: RegExp,
  send: (url: string, body: string) => Promise<Reply> = post,
): Promise<void> {
  const before = await h.running.app.store.countAlerts();
  const reply = await send(h.running.url, body);
  assert.equal(reply.status, status, `status (reply: ${reply.text.slice(0, 300)})`);
  assert.match(reply.contentType, /^text\/xml/);
  const result = parseResult(reply.text);
  assert.equal(result.code, 'Failed');
  assert.match(result.text, reason);
  assert.equal(await h.running.app.store.countAlerts(), before, 'the refused request stored nothing');
  await assertStillServing(h);
}

/** Posts [good, bad, good] and expects the bad alert alone to be skipped, with `reason` in the reply. */
async function assertSkipped(h: Harness, badAlert: (analyzer: string) => string, reason: string): Promise<void> {
  const analyzer = uniqueAnalyzer('skip');
  const [first, second] = goodAlerts(analyzer, 2);
  const before = await h.running.app.store.countAlerts();
  const reply = await post(h.running.url, ewsMessage([first!, badAlert(analyzer), second!]));
  assert.equal(reply.status, 200, reply.text);
  const result = parseResult(reply.text);
  assert.equal(result.code, 'OK');
  assert.equal(result.text, `1 of 3 alerts skipped: ${reason} (1)`);
  assert.equal(await h.running.app.store.countAlerts(), before + 2, 'the two good alerts are stored');
  assert.equal(await h.rows(analyzer), 2);
  await assertStillServing(h);
}

/** Wraps alerts in a message whose prolog is `prolog` (a DOCTYPE, say), with good credentials. */
function withProlog(prolog: string, alerts: string[], credentials = COMMUNITY): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${prolog}\n${ewsMessage(alerts, credentials)}`;
}

describe('postSimpleMessage refuses bad input', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => {
    await h?.close();
  });

  describe('not a usable XML document: 400', () => {
    it('not XML at all', async () => {
      await assertRefused(h, 'this is not XML, just text', 400, /malformed XML/);
      await assertRefused(h, '{"alerts": [1, 2, 3]}', 400, /malformed XML/);
    });

    it('truncated XML', async () => {
      const message = ewsMessage(goodAlerts(uniqueAnalyzer('truncated'), 3));
      await assertRefused(h, message.slice(0, Math.floor(message.length * 0.6)), 400, /malformed XML/);
      // Cut right after a complete alert: the alerts before the cut must not be stored either.
      await assertRefused(h, message.slice(0, message.lastIndexOf('</Alert>') + '</Alert>'.length), 400, /malformed XML/);
    });

    it('wrong root element', async () => {
      const message = ewsMessage(goodAlerts(uniqueAnalyzer('root'), 2)).replaceAll('EWS-SimpleMessage', 'EWS-ComplexMessage');
      await assertRefused(h, message, 400, /root element must be EWS-SimpleMessage/);
      await assertRefused(h, '<Result><StatusCode>OK</StatusCode></Result>', 400, /root element/);
    });

    it('empty body', async () => {
      await assertRefused(h, '', 400, /empty/);
      await assertRefused(h, '  \r\n\t ', 400, /empty/);
      await assertRefused(h, '', 400, /empty/, (url, body) => rawPost(url, body, {}));
    });

    it('a second root element after the message', async () => {
      const message = ewsMessage(goodAlerts(uniqueAnalyzer('tworoots'), 2));
      await assertRefused(h, `${message}\n${message}`, 400, /malformed XML/);
    });
  });

  describe('DTDs and entities: 400, never expanded', () => {
    it('a DOCTYPE with a billion-laughs entity expansion', async () => {
      const levels = ['<!ENTITY lol0 "lol">'];
      for (let i = 1; i <= 9; i++) levels.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
      const body = withProlog(`<!DOCTYPE lolz [\n${levels.join('\n')}\n]>`,
        goodAlerts(uniqueAnalyzer('lol'), 1, { requests: { description: '&lol9;' } }));
      await assertRefused(h, body, 400, /DOCTYPE and ENTITY declarations are not accepted/);
      // Refused without expanding: the same answer when the body stops after the declarations,
      // before the `&lol9;` that would expand them.
      const declarations = Buffer.byteLength(body.slice(0, body.indexOf(']>') + 2));
      await assertRefused(h, body, 400, /DOCTYPE and ENTITY declarations are not accepted/, (url, whole) => postOnlyTheStart(url, whole, declarations));
    });

    it('an external entity (XXE)', async () => {
      const body = withProlog('<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>',
        goodAlerts(uniqueAnalyzer('xxe'), 1, { requests: { description: '&xxe;' } }));
      await assertRefused(h, body, 400, /DOCTYPE and ENTITY declarations are not accepted/);
      // The parameter-entity flavour.
      const parameter = withProlog('<!DOCTYPE foo [ <!ENTITY % remote SYSTEM "http://127.0.0.1:1/evil.dtd"> %remote; ]>',
        goodAlerts(uniqueAnalyzer('xxe'), 1));
      await assertRefused(h, parameter, 400, /DOCTYPE and ENTITY declarations are not accepted/);
    });

    it('a DOCTYPE without entities, in any letter case', async () => {
      const body = withProlog('<!doctype EWS-SimpleMessage>', goodAlerts(uniqueAnalyzer('doctype'), 1));
      await assertRefused(h, body, 400, /DOCTYPE and ENTITY declarations are not accepted/);
    });

    it('a bare <!ENTITY without DOCTYPE', async () => {
      const body = ewsMessage(goodAlerts(uniqueAnalyzer('bare'), 1)).replace('<Authentication>', '<!ENTITY x "y">\n  <Authentication>');
      // Inside the document an ENTITY declaration is not even XML syntax: the strict parser refuses it.
      await assertRefused(h, body, 400, /^malformed XML: incorrect syntax/);
    });

    it('an undefined entity reference &foo; in a text node', async () => {
      const body = ewsMessage(goodAlerts(uniqueAnalyzer('undefined'), 2, { requests: { description: 'Cowrie &foo; here' } }));
      await assertRefused(h, body, 400, /^malformed XML: undefined entity/);
    });

    it('predefined and numeric character references are fine', async () => {
      const analyzer = uniqueAnalyzer('charref');
      const source = '81.2.69.161';
      const reply = await post(h.running.url, ewsMessage(goodAlerts(analyzer, 1, { source, additional: { username: 'r&amp;&lt;&#111;&#x6f;t' } })));
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, OK_REPLY);
      const stored = await h.running.app.store.newestFromSource('both', source, 10);
      assert.deepEqual(stored.map((alert) => [alert.document.peerIdent, alert.document.username]), [[analyzer, 'r&<oot']]);
    });
  });

  describe('alerts that are invalid are skipped alone: 200 OK saying how many', () => {
    it('an invalid source address', async () => {
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '2026-11-27 11:00:00', source: '999.1.2.3' }), 'invalid Source address');
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '2026-11-27 11:00:00', source: 'not-an-address' }), 'invalid Source address');
    });

    it('an invalid target address', async () => {
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '2026-11-27 11:00:00', target: '1.2.3' }), 'invalid Target address');
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '2026-11-27 11:00:00', target: '' }), 'invalid Target address');
    });

    it('an invalid CreateTime: a day that does not exist', async () => {
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '2017-02-30 10:00:00' }), 'invalid CreateTime');
    });

    it('an invalid CreateTime: not a time at all', async () => {
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: 'yesterday' }), 'invalid CreateTime');
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '2026-11-27 25:00:00' }), 'invalid CreateTime');
    });

    it('an invalid tz', async () => {
      // The reason names the CreateTime, whose tz attribute is the invalid part.
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '2026-11-27 11:00:00', tz: '+9999' }), 'invalid CreateTime tz');
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '2026-11-27 11:00:00', tz: 'CET' }), 'invalid CreateTime tz');
    });

    it('a missing CreateTime', async () => {
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '2026-11-27 11:00:00' }).replace(/\s*<CreateTime[^>]*>[^<]*<\/CreateTime>/, ''), 'missing CreateTime');
      await assertSkipped(h, (a) => alertXml({ analyzer: a, createTime: '' }), 'missing CreateTime');
    });

    it('several bad alerts: the reply counts each reason', async () => {
      const analyzer = uniqueAnalyzer('many');
      const alerts = [
        ...goodAlerts(analyzer, 2),
        alertXml({ analyzer, createTime: '2026-11-27 12:00:00', source: 'x' }),
        alertXml({ analyzer, createTime: '2026-11-27 12:00:01', source: 'y' }),
        alertXml({ analyzer, createTime: 'yesterday' }),
      ];
      const reply = await post(h.running.url, ewsMessage(alerts));
      assert.equal(reply.status, 200, reply.text);
      const result = parseResult(reply.text);
      assert.equal(result.code, 'OK');
      assert.equal(result.text, '3 of 5 alerts skipped: invalid Source address (2); invalid CreateTime (1)');
      assert.equal(await h.rows(analyzer), 2);
    });

    it('a message whose every alert is bad: 200 OK, nothing stored', async () => {
      const analyzer = uniqueAnalyzer('allbad');
      const before = await h.running.app.store.countAlerts();
      const reply = await post(h.running.url, ewsMessage([alertXml({ analyzer, source: 'nope' })]));
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(parseResult(reply.text), { code: 'OK', text: '1 of 1 alerts skipped: invalid Source address (1)' });
      assert.equal(await h.running.app.store.countAlerts(), before);
      await assertStillServing(h);
    });
  });

  describe('authentication', () => {
    const alerts = (tag: string): string[] => goodAlerts(uniqueAnalyzer(tag), 2);

    it('a wrong token: 403', async () => {
      await assertRefused(h, ewsMessage(alerts('wrongtoken'), { username: COMMUNITY.username, token: 'not-the-token' }), 403, /^Authentication failed$/);
    });

    it('an unknown user: 403', async () => {
      await assertRefused(h, ewsMessage(alerts('unknown'), { username: 'nobody-we-know', token: COMMUNITY.token }), 403, /^Authentication failed$/);
    });

    it('a missing Authentication element: 403', async () => {
      const body = ewsMessage(alerts('noauth')).replace(/<Authentication>[\s\S]*<\/Authentication>/, '');
      assert.ok(!body.includes('Authentication'));
      await assertRefused(h, body, 403, /^Authentication failed$/);
    });

    it('empty credentials: 403', async () => {
      await assertRefused(h, ewsMessage(alerts('empty'), { username: '', token: '' }), 403, /^Authentication failed$/);
      await assertRefused(h, ewsMessage(alerts('empty'), { username: '  ', token: '\n' }), 403, /^Authentication failed$/);
      await assertRefused(h, ewsMessage(alerts('empty'), { username: COMMUNITY.username, token: '' }), 403, /^Authentication failed$/);
      await assertRefused(h, ewsMessage(alerts('empty'), { username: '', token: COMMUNITY.token }), 403, /^Authentication failed$/);
    });

    it('a private user (sha512 token hash) stores private-domain alerts', async () => {
      const token = 'private-user-token-1';
      await h.running.app.store.putUser({ peerName: 'private-sha512', tokenHash: sha512Hex(token), community: false, getOnly: false, email: '' });
      const analyzer = uniqueAnalyzer('private');
      const before = await h.running.app.store.countAlerts();
      const reply = await post(h.running.url, ewsMessage(goodAlerts(analyzer, 3), { username: 'private-sha512', token }));
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, OK_REPLY);
      assert.equal(await h.running.app.store.countAlerts(), before + 3);
      assert.deepEqual(await h.domains(analyzer), [false], 'clientDomain is false');
      // Its wrong token is refused.
      await assertRefused(h, ewsMessage(alerts('private'), { username: 'private-sha512', token: 'guess' }), 403, /^Authentication failed$/);
    });

    it('a private user with a legacy md5 token hash', async () => {
      const token = 'legacy-user-token';
      await h.running.app.store.putUser({
        peerName: 'private-md5', tokenHash: createHash('md5').update(token).digest('hex'), community: false, getOnly: false, email: '',
      });
      const analyzer = uniqueAnalyzer('legacy');
      const reply = await post(h.running.url, ewsMessage(goodAlerts(analyzer, 2), { username: 'private-md5', token }));
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, OK_REPLY);
      assert.equal(await h.rows(analyzer), 2);
      assert.deepEqual(await h.domains(analyzer), [false], 'clientDomain is false');
    });

    it('community alerts store clientDomain true', async () => {
      const analyzer = uniqueAnalyzer('community');
      const reply = await post(h.running.url, ewsMessage(goodAlerts(analyzer, 1)));
      assert.equal(reply.text, OK_REPLY);
      assert.deepEqual(await h.domains(analyzer), [true]);
    });

    it('a getOnly user may not post: 403', async () => {
      const token = 'get-only-token';
      await h.running.app.store.putUser({ peerName: 'private-getonly', tokenHash: sha512Hex(token), community: false, getOnly: true, email: '' });
      await assertRefused(h, ewsMessage(alerts('getonly'), { username: 'private-getonly', token }), 403, /may only query/);
    });
  });

  describe('methods and content types', () => {
    it('GET on the path: 405 "POST is required for this action."', async () => {
      const before = await h.running.app.store.countAlerts();
      const response = await fetch(h.running.url + INGEST);
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), 'POST, OPTIONS');
      assert.equal(await response.text(), 'POST is required for this action.');
      const withQuery = await fetch(`${h.running.url}${INGEST}?x=1`);
      assert.equal(withQuery.status, 405);
      assert.equal(await withQuery.text(), 'POST is required for this action.');
      assert.equal(await h.running.app.store.countAlerts(), before);
      await assertStillServing(h);
    });

    it('HEAD on the path: 405', async () => {
      const response = await fetch(h.running.url + INGEST, { method: 'HEAD' });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), 'POST, OPTIONS');
      assert.equal(await response.text(), '');
      await assertStillServing(h);
    });

    it('PUT on the path: 405, nothing stored', async () => {
      const before = await h.running.app.store.countAlerts();
      const response = await fetch(h.running.url + INGEST, { method: 'PUT', body: ewsMessage(goodAlerts(uniqueAnalyzer('put'), 1)) });
      assert.equal(response.status, 405);
      assert.equal(await response.text(), 'POST is required for this action.');
      assert.equal(await h.running.app.store.countAlerts(), before);
    });

    for (const contentType of ['application/json', 'application/x-www-form-urlencoded', 'text/plain; charset=utf-8', 'multipart/form-data; boundary=x', '*/*']) {
      it(`content type ${contentType}: still read as XML`, async () => {
        const analyzer = uniqueAnalyzer('ctype');
        const reply = await post(h.running.url, ewsMessage(goodAlerts(analyzer, 2)), { 'content-type': contentType });
        assert.equal(reply.status, 200, reply.text);
        assert.equal(reply.text, OK_REPLY);
        assert.equal(await h.rows(analyzer), 2);
      });
    }

    // Fastify answers 415 to a content-type header that is not a `type/subtype` media type before any
    // parser runs, so the catch-all parser in server.ts never sees these (see the report).
    it('a malformed content type ("bogus", "xml", "", a list): still read as XML', async () => {
      for (const contentType of ['bogus', 'xml', '', 'text/xml,application/xml']) {
        const analyzer = uniqueAnalyzer('badctype');
        const body = ewsMessage(goodAlerts(analyzer, 2));
        const reply = await rawPost(h.running.url, body, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) });
        assert.equal(reply.status, 200, `content type ${JSON.stringify(contentType)}: ${reply.text}`);
        assert.equal(reply.text, OK_REPLY);
        assert.equal(await h.rows(analyzer), 2);
      }
    });

    it('no content type at all: still read as XML', async () => {
      const analyzer = uniqueAnalyzer('noctype');
      const body = ewsMessage(goodAlerts(analyzer, 2));
      const reply = await rawPost(h.running.url, body, { 'content-length': String(Buffer.byteLength(body)) });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, OK_REPLY);
      assert.equal(await h.rows(analyzer), 2);
    });

    it('a real ewsposter fixture under application/x-www-form-urlencoded', async () => {
      const reply = await post(h.running.url, readFixture('alarmcowrie.xml'), { 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(parseResult(reply.text).code, 'OK');
    });
  });

  describe('pathological but well-formed documents: answered, server stays up', () => {
    it('deep nesting inside an Alert', async () => {
      const analyzer = uniqueAnalyzer('deep');
      const depth = 20_000;
      const [alert] = goodAlerts(analyzer, 1);
      const deep = alert!.replace('</Alert>', `${'<x>'.repeat(depth)}deep${'</x>'.repeat(depth)}\n  </Alert>`);
      const reply = await post(h.running.url, ewsMessage([deep]));
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, OK_REPLY);
      assert.equal(await h.rows(analyzer), 1);
      await assertStillServing(h);
    });

    it('a huge attribute count inside an Alert', async () => {
      const analyzer = uniqueAnalyzer('attrs');
      const attributes = Array.from({ length: 20_000 }, (_, i) => `a${i}="${i}"`).join(' ');
      const [alert] = goodAlerts(analyzer, 1);
      const wide = alert!
        .replace('<Analyzer ', `<Analyzer ${attributes} `)
        .replace('</Alert>', `<Junk ${attributes}/>\n  </Alert>`);
      const reply = await post(h.running.url, ewsMessage([wide]));
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, OK_REPLY);
      assert.equal(await h.rows(analyzer), 1);
      await assertStillServing(h);
    });

    it('a duplicate attribute: 400', async () => {
      const [alert] = goodAlerts(uniqueAnalyzer('dupattr'), 1);
      await assertRefused(h, ewsMessage([alert!.replace('<Analyzer ', '<Analyzer id="x" ')]), 400, /malformed XML/);
    });

    it('a 1 MB text node in an AdditionalData', async () => {
      const analyzer = uniqueAnalyzer('bigtext');
      const reply = await post(h.running.url, ewsMessage(goodAlerts(analyzer, 1, { additional: { payload: 'A'.repeat(1024 * 1024) } })));
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, OK_REPLY);
      assert.equal(await h.rows(analyzer), 1);
      await assertStillServing(h);
    });
  });
});

describe('postSimpleMessage size limits: 413', () => {
  it('a body over BODY_LIMIT', async () => {
    const h = await harness({ BODY_LIMIT: String(64 * 1024) });
    try {
      const analyzer = uniqueAnalyzer('toolarge');
      const body = ewsMessage(goodAlerts(analyzer, 1, { additional: { payload: 'B'.repeat(100 * 1024) } }));
      assert.ok(Buffer.byteLength(body) > 100 * 1024);
      await assertRefused(h, body, 413, /request body larger than 65536 bytes/);
      // The same without a content-length (chunked): the limit still holds.
      await assertRefused(h, body, 413, /request body larger than 65536 bytes/, (url, b) =>
        rawPost(url, b, { 'content-type': 'text/xml', 'transfer-encoding': 'chunked' }));
      assert.equal(await h.rows(analyzer), 0);
    } finally {
      await h.close();
    }
  });

  it('more alerts than MAX_ALERTS_PER_MESSAGE', async () => {
    const h = await harness({ MAX_ALERTS_PER_MESSAGE: '5' });
    try {
      const analyzer = uniqueAnalyzer('toomany');
      await assertRefused(h, ewsMessage(goodAlerts(analyzer, 6)), 413, /more than 5 alerts in one message/);
      assert.equal(await h.rows(analyzer), 0, 'none of the six is stored');
      const reply = await post(h.running.url, ewsMessage(goodAlerts(analyzer, 5)));
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, OK_REPLY);
      assert.equal(await h.rows(analyzer), 5);
    } finally {
      await h.close();
    }
  });
});

// A write lock held by another connection is SQLite's own way to fail; an OpenSearch node that
// is down is store-unavailable.test.ts's case.
describe('postSimpleMessage when the store fails', { skip: TEST_STORE_KIND !== 'sqlite' && 'SQLite write locks' }, () => {
  it('a write lock held elsewhere: 503 "Handling failed", then the retry stores once', async () => {
    const h = await harness({ SQLITE_BUSY_TIMEOUT: '100' });
    const locker = new Database(join(h.running.dir, 'peba.db'));
    try {
      const analyzer = uniqueAnalyzer('locked');
      const message = ewsMessage(goodAlerts(analyzer, 4));
      const before = await h.running.app.store.countAlerts();

      locker.exec('BEGIN EXCLUSIVE');
      const refused = await post(h.running.url, message);
      assert.equal(refused.status, 503, refused.text);
      assert.match(refused.contentType, /^text\/xml/);
      const result = parseResult(refused.text);
      assert.equal(result.code, 'Handling failed');
      assert.notEqual(result.text, '', 'the reply says why');
      assert.equal(await h.running.app.store.countAlerts(), before, 'nothing stored while locked');
      assert.equal(await h.rows(BASELINE), BASELINE_ALERTS, 'alerts stored before are still there');
      locker.exec('ROLLBACK');

      const retried = await post(h.running.url, message);
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.text, OK_REPLY);
      assert.equal(await h.running.app.store.countAlerts(), before + 4);
      assert.equal(await h.rows(analyzer), 4);

      // Resubmission is idempotent.
      const again = await post(h.running.url, message);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.text, OK_REPLY);
      assert.equal(await h.running.app.store.countAlerts(), before + 4, 'the resubmitted message changed nothing');
      await assertStillServing(h);
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      await h.close();
    }
  });

  it('a lock while several messages are committed together: each fails alone and retries cleanly', async () => {
    const h = await harness({ SQLITE_BUSY_TIMEOUT: '100' });
    const locker = new Database(join(h.running.dir, 'peba.db'));
    try {
      const analyzers = [uniqueAnalyzer('group'), uniqueAnalyzer('group'), uniqueAnalyzer('group')];
      const messages = analyzers.map((a) => ewsMessage(goodAlerts(a, 3)));
      const before = await h.running.app.store.countAlerts();
      locker.exec('BEGIN EXCLUSIVE');
      const replies = await Promise.all(messages.map((m) => post(h.running.url, m)));
      for (const reply of replies) {
        assert.equal(reply.status, 503, reply.text);
        assert.equal(parseResult(reply.text).code, 'Handling failed');
      }
      assert.equal(await h.running.app.store.countAlerts(), before);
      locker.exec('ROLLBACK');
      const retried = await Promise.all(messages.map((m) => post(h.running.url, m)));
      for (const reply of retried) assert.equal(reply.text, OK_REPLY);
      for (const analyzer of analyzers) assert.equal(await h.rows(analyzer), 3);
      assert.equal(await h.running.app.store.countAlerts(), before + 9);
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      await h.close();
    }
  });
});
