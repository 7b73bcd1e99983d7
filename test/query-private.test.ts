/**
 * The private endpoints (CONTRACT sections 4 and 5): POST with credentials in an EWS body, under
 * `/alert/` and `/ews-0.1/alert/`; only users of the user store may query. retrieveIPs (bad-IP
 * list over BADIPTIMESPAN minutes), retrieveIPs15m, retrieveAlertsCyber (newest MAXALERTS by
 * recievedTime) and querySingleIP (newest MAXALERTS from one source by createTime).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  addPrivateUser, alertRecord, alertRecords, alertXml, at, COMMUNITY, ewsMessage, fetchText, postMessage, queryBody, useApp,
  type FetchedText, type GroupApp,
} from './helpers';
import { formatUtc } from '../src/domain/time';
import { sha512Hex } from '../src/auth/tokens';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const ENDPOINTS = ['retrieveIPs', 'retrieveIPs15m', 'retrieveAlertsCyber', 'querySingleIP?ip=81.2.69.142'];
const PREFIXES = ['/alert/', '/ews-0.1/alert/'];

type Credentials = { username: string; token: string };

function post(app: GroupApp, path: string, body: string | undefined): Promise<FetchedText> {
  return fetchText(app.running.url + path, body === undefined ? { method: 'POST' } : { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
}

/** The `<Source>` elements of retrieveIPs, as the contract lays them out. */
function sourcesXml(sources: Array<[string, number]>): string {
  const items = sources.map(([address, count]) =>
    `    <Source>\n      <Address>${address}</Address>\n      <Count>${count}</Count>\n    </Source>\n`).join('');
  return `${DECLARATION}<EWSSimpleIPInfo>\n  <Sources>\n${items}  </Sources>\n</EWSSimpleIPInfo>\n`;
}

describe('private endpoints: who may ask', () => {
  const app = useApp();
  let user: Credentials;
  let legacy: Credentials;

  before(async () => {
    user = await addPrivateUser(app.running, 'private-query-user', 'Priv4te-T0ken');
    legacy = { username: 'legacy-md5-user', token: 'legacy-Token' };
    await app.running.app.store.putUser({
      peerName: legacy.username, tokenHash: createHash('md5').update(legacy.token).digest('hex'), community: false, getOnly: false, email: '',
    });
    await app.store([alertRecord(at(Date.now()))]);
  });

  for (const prefix of PREFIXES) {
    for (const endpoint of ENDPOINTS) {
      const path = prefix + endpoint;
      it(`${path}: a store user (sha512 or legacy md5 token) gets 200 XML`, async () => {
        for (const credentials of [user, legacy]) {
          const reply = await post(app, path, queryBody(credentials));
          assert.equal(reply.status, 200, `${credentials.username}: ${reply.text}`);
          assert.match(reply.headers.get('content-type') ?? '', /^text\/xml/);
          assert.ok(reply.text.startsWith(`${DECLARATION}<EWSSimple`), reply.text);
        }
      });

      it(`${path}: community credentials, no body, bad XML, unknown user, wrong token: 403`, async () => {
        const refused: Array<[string, string | undefined]> = [
          ['community credentials', queryBody(COMMUNITY)],
          ['no body', undefined],
          ['empty body', ''],
          ['bad XML', '<EWS-SimpleMessage version="3.0"><Authentication><username>private-query-user</username>'],
          ['not XML', 'username=private-query-user&token=Priv4te-T0ken'],
          ['unknown user', queryBody({ username: 'nobody-here', token: 'Priv4te-T0ken' })],
          ['wrong token', queryBody({ username: user.username, token: 'wrong' })],
          ['empty token', queryBody({ username: user.username, token: '' })],
        ];
        for (const [what, body] of refused) {
          const reply = await post(app, path, body);
          assert.equal(reply.status, 403, `${what}: ${reply.status} ${reply.text}`);
          assert.ok(!reply.text.includes('<Alert>') && !reply.text.includes('<Source>'), `${what}: no data leaked`);
        }
      });
    }
  }

  it('a get-only user may query too', async () => {
    await app.running.app.store.putUser({ peerName: 'reader', tokenHash: sha512Hex('reader-Token'), community: false, getOnly: true, email: 'r@example.org' });
    for (const endpoint of ENDPOINTS) {
      const reply = await post(app, `/alert/${endpoint}`, queryBody({ username: 'reader', token: 'reader-Token' }));
      assert.equal(reply.status, 200, endpoint);
    }
  });

  it('the same answer under /alert/ and /ews-0.1/alert/', async () => {
    for (const endpoint of ENDPOINTS) {
      const [a, b] = await Promise.all(PREFIXES.map((prefix) => post(app, prefix + endpoint, queryBody(user))));
      assert.equal(a!.text, b!.text, endpoint);
    }
  });
});

describe('retrieveIPs and retrieveIPs15m (BADIPTIMESPAN=30)', () => {
  const app = useApp({ BADIPTIMESPAN: '30' });
  let user: Credentials;

  before(async () => {
    user = await addPrivateUser(app.running);
    const now = Date.now();
    const from = (ip: string, time: number, n = 1, clientDomain = true) => alertRecords(n, { ...at(time), sourceEntryIp: ip, clientDomain });
    await app.store([
      ...from('81.2.69.142', now - MINUTE, 4),
      ...from('2a02:d180::1', now - 20 * MINUTE, 3),
      ...from('216.160.83.56', now - 14 * MINUTE, 1),
      // Inside 30 minutes (by 30 s) but created long ago: counts (recievedTime).
      ...alertRecords(2, { createTime: formatUtc(now - 5 * HOUR), recievedTime: formatUtc(now - 29 * MINUTE - 30 * SECOND), sourceEntryIp: '216.160.83.57' }),
      // Non-public sources are never listed, however frequent.
      ...from('10.0.0.1', now, 5),
      ...from('192.168.1.1', now, 4),
      ...from('127.0.0.1', now, 4),
      ...from('172.16.5.4', now, 4),
      ...from('100.64.0.1', now, 4),
      ...from('198.51.100.7', now, 4),
      ...from('fe80::1', now, 6),
      ...from('::1', now, 4),
      ...from('fc00::1', now, 4),
      ...from('2001:db8::1', now, 4),
      ...from('::ffff:10.0.0.1', now, 4),
      // Received 31 minutes ago: outside; created now but received 2 h ago: outside.
      ...from('175.16.199.1', now - 31 * MINUTE, 7),
      alertRecord({ createTime: formatUtc(now), recievedTime: formatUtc(now - 2 * HOUR), sourceEntryIp: '175.16.199.2' }),
      // Private domain.
      ...from('67.43.156.1', now, 5, false),
      ...from('10.1.1.1', now, 9, false),
    ]);
  });

  it('XML: public sources received in the last BADIPTIMESPAN minutes, most frequent first', async () => {
    const reply = await post(app, '/alert/retrieveIPs', queryBody(user));
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^text\/xml/);
    assert.equal(reply.text, sourcesXml([['81.2.69.142', 4], ['2a02:d180::1', 3], ['216.160.83.57', 2], ['216.160.83.56', 1]]));
  });

  it('out=json: [{"ip","count"}] with integer counts', async () => {
    const reply = await post(app, '/alert/retrieveIPs?out=json', queryBody(user));
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(reply.text, '[{"ip":"81.2.69.142","count":4},{"ip":"2a02:d180::1","count":3},{"ip":"216.160.83.57","count":2},{"ip":"216.160.83.56","count":1}]');
  });

  it('retrieveIPs15m: the same over 15 minutes', async () => {
    const reply = await post(app, '/alert/retrieveIPs15m', queryBody(user));
    assert.equal(reply.text, sourcesXml([['81.2.69.142', 4], ['216.160.83.56', 1]]));
    const json = await post(app, '/ews-0.1/alert/retrieveIPs15m?out=json', queryBody(user));
    assert.equal(json.text, '[{"ip":"81.2.69.142","count":4},{"ip":"216.160.83.56","count":1}]');
  });

  it('ci=0 private only, ci=-1 both', async () => {
    assert.equal((await post(app, '/alert/retrieveIPs15m?ci=0&out=json', queryBody(user))).text, '[{"ip":"67.43.156.1","count":5}]');
    assert.equal((await post(app, '/alert/retrieveIPs15m?ci=-1&out=json', queryBody(user))).text,
      '[{"ip":"67.43.156.1","count":5},{"ip":"81.2.69.142","count":4},{"ip":"216.160.83.56","count":1}]');
    assert.equal((await post(app, '/alert/retrieveIPs15m?ci=1&out=json', queryBody(user))).text,
      '[{"ip":"81.2.69.142","count":4},{"ip":"216.160.83.56","count":1}]');
  });
});

describe('retrieveIPs with the default BADIPTIMESPAN (120 minutes)', () => {
  const app = useApp();
  let user: Credentials;

  before(async () => {
    user = await addPrivateUser(app.running);
    const now = Date.now();
    await app.store([
      alertRecord({ ...at(now - 119 * MINUTE), sourceEntryIp: '81.2.69.142' }),
      alertRecord({ ...at(now - 121 * MINUTE), sourceEntryIp: '81.2.69.143' }),
    ]);
  });

  it('119 minutes ago is listed, 121 minutes ago is not', async () => {
    assert.equal((await post(app, '/alert/retrieveIPs?out=json', queryBody(user))).text, '[{"ip":"81.2.69.142","count":1}]');
  });
});

describe('retrieveAlertsCyber (MAXALERTS=3)', () => {
  const app = useApp({ MAXALERTS: '3' });
  let user: Credentials;
  const ids: string[] = [];
  let times: string[] = [];

  before(async () => {
    user = await addPrivateUser(app.running);
    const now = Date.now();
    // Received 5, 4, 3, 2, 1 minutes ago; created in the opposite order.
    times = [5, 4, 3, 2, 1].map((m) => formatUtc(now - m * MINUTE));
    const records = times.map((received, i) => alertRecord({
      recievedTime: received,
      createTime: formatUtc(now - (i + 1) * HOUR),
      peerIdent: `cowrie-cyber-${i}`,
      sourceEntryIp: `81.2.69.${150 + i}`,
      originalRequestString: i === 4 ? `wget http://x/?a=1&b=<2> "q" 'r'` : i === 3 ? '' : `cmd ${i}`,
    }));
    for (const r of records) ids.push(r.id);
    await app.store(records);
    // A private alert, newer than all of them: only with ci=0 / ci=-1.
    await app.store([alertRecord({ ...at(now), clientDomain: false, peerIdent: 'private-sensor', sourceEntryIp: '67.43.156.9', country: 'BT', location: '27.5 , 90.5' })]);
  });

  it('the newest MAXALERTS by recievedTime, newest first, exact XML with escaping and <Request /> when empty', async () => {
    const reply = await post(app, '/alert/retrieveAlertsCyber', queryBody(user));
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^text\/xml/);
    const alert = (i: number, request: string) => [
      '    <Alert>',
      `      <Id>${ids[i]}</Id>`,
      `      <DateCreated>${times[i]}</DateCreated>`,
      '      <Peer>',
      `        <Id>cowrie-cyber-${i}</Id>`,
      '        <Type>SSH/console(cowrie)</Type>',
      '        <Country>SE</Country>',
      '      </Peer>',
      request,
      '      <Source>',
      `        <Address>81.2.69.${150 + i}</Address>`,
      '        <Country>GB</Country>',
      '        <Latitude>51.5142</Latitude>',
      '        <Longitude>-0.0931</Longitude>',
      '      </Source>',
      '    </Alert>',
    ].join('\n');
    const expected = `${DECLARATION}<EWSSimpleAlertInfo>\n  <Alerts>\n${[
      // Element text escapes only & < > (as Python's ElementTree): quotes stay as they are.
      alert(4, '      <Request>wget http://x/?a=1&amp;b=&lt;2&gt; "q" \'r\'</Request>'),
      alert(3, '      <Request />'),
      alert(2, '      <Request>cmd 2</Request>'),
    ].join('\n')}\n  </Alerts>\n</EWSSimpleAlertInfo>\n`;
    assert.equal(reply.text, expected);
  });

  it('ci=0 private only, ci=-1 both (newest first)', async () => {
    const idsOf = (xml: string) => [...xml.matchAll(/<Alert>\n\s*<Id>([0-9a-f]{32})<\/Id>/g)].map((m) => m[1]);
    const priv = (await post(app, '/alert/retrieveAlertsCyber?ci=0', queryBody(user))).text;
    assert.equal(idsOf(priv).length, 1);
    assert.ok(priv.includes('<Id>private-sensor</Id>') && priv.includes('<Latitude>27.5</Latitude>') && priv.includes('<Longitude>90.5</Longitude>'), priv);
    const both = (await post(app, '/alert/retrieveAlertsCyber?ci=-1', queryBody(user))).text;
    assert.deepEqual(idsOf(both).slice(1), [ids[4], ids[3]]);
    assert.ok(both.indexOf('private-sensor') < both.indexOf('cowrie-cyber-4'));
  });
});

describe('querySingleIP (MAXALERTS=3)', () => {
  const app = useApp({ MAXALERTS: '3' });
  let user: Credentials;
  const ids: string[] = [];
  let created: string[] = [];

  before(async () => {
    user = await addPrivateUser(app.running);
    const now = Date.now();
    // Created 4, 3, 2, 1 hours ago; received in the opposite order.
    created = [4, 3, 2, 1].map((h) => formatUtc(now - h * HOUR));
    const records = created.map((createTime, i) => alertRecord({
      createTime,
      recievedTime: formatUtc(now - (i + 1) * MINUTE),
      sourceEntryIp: '81.2.69.142',
      peerType: i === 0 ? 'Webpage' : 'SSH/console(cowrie)',
      targetCountry: i === 3 ? 'DE' : 'SE',
      originalRequestString: i === 3 ? `/q?x=1&y=<z> "a" 'b'` : `req ${i}`,
    }));
    for (const r of records) ids.push(r.id);
    await app.store([
      ...records,
      // Other sources, non-public sources and an IPv6 source.
      alertRecord({ ...at(now), sourceEntryIp: '81.2.69.143' }),
      ...alertRecords(2, { ...at(now), sourceEntryIp: '10.0.0.1' }),
      alertRecord({ ...at(now), sourceEntryIp: 'fe80::1' }),
      alertRecord({ ...at(now - HOUR), sourceEntryIp: '2a02:d180::1', originalRequestString: 'v6' }),
      // Private.
      alertRecord({ ...at(now), sourceEntryIp: '81.2.69.142', clientDomain: false, originalRequestString: 'private one' }),
    ]);
  });

  const EMPTY = `${DECLARATION}<EWSSimpleAlertInfo>\n  <Alerts />\n</EWSSimpleAlertInfo>\n`;

  it('the newest MAXALERTS from the address by createTime, newest first, exact XML', async () => {
    const reply = await post(app, '/alert/querySingleIP?ip=81.2.69.142', queryBody(user));
    assert.equal(reply.status, 200);
    const alert = (i: number, type: string, country: string, request: string) => [
      '    <Alert>',
      `      <Id>${ids[i]}</Id>`,
      `      <DateCreated>${created[i]}</DateCreated>`,
      '      <Peer>',
      `        <Type>${type}</Type>`,
      `        <Country>${country}</Country>`,
      '      </Peer>',
      `      <Request>${request}</Request>`,
      '    </Alert>',
    ].join('\n');
    assert.equal(reply.text, `${DECLARATION}<EWSSimpleAlertInfo>\n  <Alerts>\n${[
      alert(3, 'SSH/console(cowrie)', 'DE', '/q?x=1&amp;y=&lt;z&gt; "a" \'b\''),
      alert(2, 'SSH/console(cowrie)', 'SE', 'req 2'),
      alert(1, 'SSH/console(cowrie)', 'SE', 'req 1'),
    ].join('\n')}\n  </Alerts>\n</EWSSimpleAlertInfo>\n`);
  });

  it('a public IPv6 source is answered, however the address is written', async () => {
    for (const ip of ['2a02:d180::1', '2A02:D180:0:0::1', '2a02:d180:0000:0000:0000:0000:0000:0001']) {
      const reply = await post(app, `/ews-0.1/alert/querySingleIP?ip=${ip}`, queryBody(user));
      assert.equal((reply.text.match(/<Alert>/g) ?? []).length, 1, ip);
      assert.ok(reply.text.includes('<Request>v6</Request>'), reply.text);
    }
  });

  it('an alert posted from an IPv4-mapped IPv6 address is stored as the IPv4 address and found however asked', async () => {
    const posted = await postMessage(app.running.url, ewsMessage([alertXml({ source: '::ffff:81.2.69.144', requests: { url: '/mapped' } })]));
    assert.equal(posted.status, 200, posted.text);
    const stored = await app.running.app.store.newestFromSource('community', '81.2.69.144', 5);
    assert.deepEqual(stored.map((alert) => [alert.document.sourceEntryIp, alert.document.country]), [['81.2.69.144', 'GB']]);
    for (const ip of ['81.2.69.144', '::ffff:81.2.69.144', '::FFFF:5102:4590']) {
      const reply = await post(app, `/alert/querySingleIP?ip=${encodeURIComponent(ip)}`, queryBody(user));
      assert.equal((reply.text.match(/<Alert>/g) ?? []).length, 1, ip);
      assert.ok(reply.text.includes('<Request>/mapped</Request>'), reply.text);
    }
  });

  it('ci=0 private only', async () => {
    const reply = await post(app, '/alert/querySingleIP?ip=81.2.69.142&ci=0', queryBody(user));
    assert.equal((reply.text.match(/<Alert>/g) ?? []).length, 1);
    assert.ok(reply.text.includes('<Request>private one</Request>'), reply.text);
  });

  it('a missing, invalid or non-public address gives an empty <Alerts />', async () => {
    for (const query of ['', '?ip=', '?ip=abc', '?ip=81.2.69', '?ip=999.1.1.1', '?ip=10.0.0.1', '?ip=fe80::1', '?ip=127.0.0.1']) {
      const reply = await post(app, `/alert/querySingleIP${query}`, queryBody(user));
      assert.equal(reply.status, 200, query);
      assert.equal(reply.text, EMPTY, query);
    }
  });
});
