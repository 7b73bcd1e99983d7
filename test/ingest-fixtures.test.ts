/**
 * Every fixture message ingests, and for one alert of each honeypot type the stored document is
 * checked field by field against expectations written by hand from CONTRACT sections 1-3.
 * GeoIP comes from MaxMind's test databases, whose JSON says which addresses they know.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { after, before, describe, mock, test } from 'node:test';
import { sha512Hex } from '../src/auth/tokens';
import type { AlertDocument } from '../src/domain/alert';
import { alertXml, EWS_FIXTURES, ewsMessage, OK_REPLY, postMessage, readFixture, startApp, type RunningApp } from './helpers';

const md5 = (text: string | Buffer): string => createHash('md5').update(text).digest('hex');
type AlertKey = Pick<AlertDocument, 'createTime' | 'sourceEntryIp' | 'targetEntryIp' | 'originalRequestString' | 'peerIdent'>;
/** The id of the one stored alert with these facts (how ids are made is tested in alert-ids.test.ts). */
async function idOf(key: AlertKey): Promise<string> {
  const ids: string[] = [];
  for await (const { id, document } of running.app.store.exportAlerts()) {
    if ((Object.keys(key) as Array<keyof AlertKey>).every((field) => document[field] === key[field])) ids.push(id);
  }
  assert.equal(ids.length, 1, `one alert stored with ${JSON.stringify(key)}`);
  return ids[0]!;
}

const UNKNOWN = { country: '-', countryName: '-', as: '-', location: '0.0 , 0.0' };
const PIR = { country: 'PIR', countryName: 'IANA Private IP Range', as: 'IANA', location: '0.0 , 0.0' };
type Geo = typeof UNKNOWN;

/** A document with the defaults of an alert that sent nothing optional. */
function expected(fields: Partial<AlertDocument> & { source: Geo; target: Geo }): Omit<AlertDocument, 'recievedTime'> {
  const { source, target, ...rest } = fields;
  return {
    createTime: '', clientDomain: true, peerIdent: '', peerType: '',
    sourceEntryIp: '', sourceEntryPort: '', targetEntryIp: '', targetEntryPort: '', targetport: '',
    country: source.country, countryName: source.countryName, sourceEntryAS: source.as, location: source.location,
    targetCountry: target.country, targetCountryName: target.countryName, targetEntryAS: target.as, locationDestination: target.location,
    originalRequestString: '', username: '', password: '', login: '', clientVersion: '',
    sessionStart: '', sessionEnd: '', vulnid: '', additionalData: '{}', rawhttp: '-',
    externalIP: '1.1.1.1', internalIP: '1.1.1.1', hostname: 'undefined', client: '-',
    ...rest,
  };
}

let running: RunningApp;
before(async () => {
  running = await startApp();
});
after(async () => {
  await running.close();
});

async function stored(document: Omit<AlertDocument, 'recievedTime'>): Promise<AlertDocument> {
  const actual = await running.app.store.getAlert(await idOf(document));
  assert.ok(actual, `no alert stored with id of ${JSON.stringify(document)}`);
  const { recievedTime, ...rest } = actual;
  assert.match(recievedTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  assert.ok(Math.abs(Date.parse(`${recievedTime.replace(' ', 'T')}Z`) - Date.now()) < 60_000, 'recievedTime is now, in UTC');
  assert.deepEqual(rest, document);
  return actual;
}

describe('every fixture message ingests', () => {
  for (const name of readdirSync(EWS_FIXTURES).filter((f) => f.endsWith('.xml')).sort()) {
    test(name, async () => {
      const reply = await postMessage(running.url, readFixture(name));
      assert.equal(reply.status, 200);
      if (name === 'broken.xml') {
        // One alert there has the source address "asasasas": skipped, the others stored.
        assert.equal(reply.text, '<Result><StatusCode>OK</StatusCode><Text>1 of 8 alerts skipped: invalid Source address (1)</Text></Result>');
      } else {
        assert.equal(reply.text, OK_REPLY);
      }
    });
  }
});

describe('stored documents, field by field', () => {
  test('cowrie: tz +0230 subtracted, shell input as request, login facts, session times URL-decoded', async () => {
    await stored(expected({
      createTime: '2017-02-22 01:04:58',
      peerIdent: 'cowrie-community-01', peerType: 'SSH/console(cowrie)',
      sourceEntryIp: '92.44.193.5', sourceEntryPort: '52202', targetEntryIp: '1.1.1.1', targetEntryPort: '23', targetport: 'tcp',
      source: UNKNOWN, target: UNKNOWN,
      originalRequestString: '\nenable\nshell\nsh\ncat /proc/mounts; /bin/busybox VDXZY\ncd /dev/shm; (cat .s || cp /bin/echo .s); /bin/busybox VDXZY',
      username: 'root', password: 'klv123', login: 'Fail',
      sessionStart: '2017-02-22 03:34:58', sessionEnd: '2017-02-22 03:35:31',
    }));
  });

  test('cowrie: a negative tz is added', async () => {
    const doc = await running.app.store.getAlert(await idOf({
      createTime: '2017-02-22 05:34:59', sourceEntryIp: '92.44.193.5', targetEntryIp: '1.1.1.1',
      originalRequestString: '\nenable\nshell\nsh\ncat /proc/mounts; /bin/busybox VDXZY\ncd /dev/shm; (cat .s || cp /bin/echo .s); /bin/busybox VDXZY',
      peerIdent: 'cowrie-community-01',
    }));
    assert.equal(doc?.username, 'admin');
    assert.equal(doc?.login, 'Success');
  });

  test('kippo ids classify as cowrie; CVEs prefix the request string', async () => {
    await stored(expected({
      createTime: '2016-08-01 03:30:31',
      peerIdent: 'kippo-community-01', peerType: 'SSH/console(cowrie)',
      sourceEntryIp: '90.230.47.79', targetEntryIp: '191.209.200.111', targetEntryPort: '22', targetport: 'tcp',
      source: UNKNOWN, target: UNKNOWN,
      originalRequestString: '(CVE-2012-5959 CVE-2012-5958) ',
      username: 'admin', login: 'Success', clientVersion: 'SSH-2.0-libssh-0.6.0',
      sessionStart: '2017-08-01 03:30:28', sessionEnd: '2017-08-01 05:32:19',
      vulnid: 'CVE-2012-5959 CVE-2012-5958',
    }));
  });

  test('dionaea: Attack on port N without /proto for protocol "accept"; private target is PIR', async () => {
    await stored(expected({
      createTime: '2017-09-07 03:52:23',
      peerIdent: 'dionaea-community-01', peerType: 'Network(Dionaea)',
      sourceEntryIp: '211.110.139.158', sourceEntryPort: '37522', targetEntryIp: '172.29.0.2', targetEntryPort: '3306', targetport: 'accept',
      source: UNKNOWN, target: PIR,
      originalRequestString: 'Attack on port 3306',
    }));
  });

  test('honeytrap: tz ignored, CVE prefix on Attack on port N/tcp, binary payload md5, CVE and payload stores', async () => {
    const xml = readFixture('honeytrap.xml');
    const payload = Buffer.from(/type="binary">([^<]*)</.exec(xml)![1]!, 'base64');
    const doc = await stored(expected({
      createTime: '2018-01-21 19:12:22',
      peerIdent: 'honeytrap', peerType: 'Network(honeytrap)',
      sourceEntryIp: '8.8.8.8', sourceEntryPort: '200', targetEntryIp: '8.8.8.8', targetEntryPort: '80', targetport: 'tcp',
      source: UNKNOWN, target: UNKNOWN,
      originalRequestString: '(CVE-2017-999) Attack on port 80/tcp',
      vulnid: 'CVE-2017-999',
      additionalData: JSON.stringify({ payload_md5: md5(payload) }),
    }));
    const id = await idOf(doc);
    const cves = (await running.app.store.listCveAlerts('CVE-2017-999')).filter((c) => c.alertId === id);
    assert.equal(cves.length, 1);
    assert.equal(cves[0]!.sourceEntryIp, '8.8.8.8');
    assert.equal(cves[0]!.peerType, 'Network(honeytrap)');
    const kept = await running.app.store.getPayload(md5(payload));
    assert.ok(kept, 'honeytrap payloads go to the payload store');
    assert.deepEqual(kept.bytes, payload);
    assert.equal(kept.size, payload.length);
    assert.equal(kept.mimeType, 'text/plain');
    assert.equal(kept.fuzzyHash, null, 'not an HTTP request, so no fuzzy hash');
    assert.equal(kept.firstSourceIp, '8.8.8.8');
    assert.equal(kept.firstSourcePort, '200');
  });

  test('glastopf: URL decoded, raw HTTP payload to rawhttp, sensor facts kept', async () => {
    const rawhttp = 'GET /server-status?auto HTTP/1.1\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\nHost: localhost';
    await stored(expected({
      createTime: '2018-01-09 01:29:45',
      peerIdent: 'glastopf-community-01', peerType: 'Webpage',
      sourceEntryIp: '172.27.0.1', targetEntryIp: '5.4.4.4', targetEntryPort: '80', targetport: 'tcp',
      source: PIR, target: UNKNOWN,
      originalRequestString: '/server-status?auto',
      additionalData: JSON.stringify({ payload_md5: md5(rawhttp) }),
      rawhttp,
      externalIP: '5.4.4.4', internalIP: '10.1.1.1', hostname: 'liquidxtc',
    }));
    const kept = await running.app.store.getPayload(md5(rawhttp));
    assert.ok(kept);
    const fuzzy = createHash('sha256').update('get /server-status?auto http/1.1\r\naccept-encoding: identity\r\nconnection: keep-alive\r\nhost:').digest('hex');
    assert.equal(kept.fuzzyHash, fuzzy);
    assert.equal(kept.peerType, 'Webpage');
  });

  test('an unknown analyzer id is classified by its description (WebHoneypot)', async () => {
    const doc = await running.app.store.getAlert(await idOf({
      createTime: '2016-04-11 07:10:21', sourceEntryIp: '193.99.144.95', targetEntryIp: '46.29.100.76',
      originalRequestString: '/cgi-bin/.br/style.css2/2', peerIdent: 'MSTest4',
    }));
    assert.equal(doc?.peerType, 'Webpage');
  });

  test('heralding: protocol into additionalData; AS of a known network', async () => {
    await stored(expected({
      createTime: '2018-04-24 12:12:29',
      peerIdent: 'heralding-community-01', peerType: 'Passwords(heralding)',
      sourceEntryIp: '172.21.0.1', sourceEntryPort: '43288', targetEntryIp: '87.150.238.182', targetEntryPort: '22', targetport: 'tcp',
      source: PIR, target: { ...UNKNOWN, as: 'AS3320 Deutsche Telekom AG' },
      username: 'root', password: '1337',
      additionalData: JSON.stringify({ protocol: 'ssh' }),
      externalIP: '5.4.4.4', internalIP: '10.1.1.1', hostname: 'liquidxtc',
    }));
  });

  test('cisco-asa: payload URL-decoded into additionalData', async () => {
    await stored(expected({
      createTime: '2018-04-27 21:01:55',
      peerIdent: 'ciscoasa-community-01', peerType: 'Network(cisco-asa)',
      sourceEntryIp: '172.20.254.120', sourceEntryPort: '54034', targetEntryIp: '5.4.4.4', targetEntryPort: '8443', targetport: 'tcp',
      source: PIR, target: UNKNOWN,
      additionalData: JSON.stringify({ payload: "['A']" }),
      externalIP: '5.4.4.4', internalIP: '10.1.1.1', hostname: 'liquidxtc',
    }));
  });

  test('suricata: two CVEs, each recorded once in the CVE store', async () => {
    const doc = await stored(expected({
      createTime: '2017-08-22 01:29:27',
      peerIdent: 'suricata-community-01', peerType: 'Network(suricata)',
      sourceEntryIp: '172.20.254.144', sourceEntryPort: '1900', targetEntryIp: '84.131.179.222', targetEntryPort: '51903', targetport: 'tcp',
      source: PIR, target: { ...UNKNOWN, as: 'AS3320 Deutsche Telekom AG' },
      originalRequestString: '(CVE-2012-5959 CVE-2012-5958) ',
      vulnid: 'CVE-2012-5959 CVE-2012-5958',
    }));
    const id = await idOf(doc);
    for (const cve of ['CVE-2012-5959', 'CVE-2012-5958']) {
      const rows = (await running.app.store.listCveAlerts(cve)).filter((r) => r.alertId === id);
      assert.equal(rows.length, 1, `${cve} recorded once although the fixture sends the alert twice`);
    }
  });

  test('conpot: conpot_* facts in document order; ids salted, so repeats are kept', async () => {
    {
      // Every store exports in storing order.
      const rows: Array<Record<string, unknown>> = [];
      for await (const alert of running.app.store.exportAlerts()) {
        if (alert.document.peerIdent === 'conpot-community-01') rows.push({ ...alert.document });
      }
      assert.equal(rows.length, 10, 'all ten conpot events kept, although several are identical');
      const first = rows[0]!;
      assert.equal(first['peerType'], 'Industrial(conpot)');
      assert.equal(first['createTime'], '2017-10-17 19:10:39');
      assert.equal(first['targetEntryPort'], 'undefined');
      assert.equal(first['targetEntryAS'], 'AS3320 Deutsche Telekom AG');
      assert.equal(first['sourceEntryAS'], 'AS3320 Deutsche Telekom AG');
      assert.equal(first['originalRequestString'], '');
      assert.equal(first['additionalData'], JSON.stringify({
        conpot_sensor_id: 'conpot', conpot_event_type: 'NEW_CONNECTION', conpot_data_type: 'kamstrup_protocol',
        conpot_response: 'None', conpot_request: 'None', conpot_id: 'fa2dd3d5-1589-4a57-a3a2-f4ab6f5c33d7',
      }));
    }
  });
});

describe('synthetic alerts', () => {
  test('GeoIP of source and target from the City and ASN databases, IPv4 and IPv6', async () => {
    const xml = ewsMessage([
      alertXml({ analyzer: 'cowrie-geo', source: '81.2.69.142', target: '89.160.20.112', createTime: '2026-11-27 10:00:00' }),
      alertXml({ analyzer: 'cowrie-geo', source: '2001:218::1', target: '2a02:cf40::1', createTime: '2026-11-27 10:00:01' }),
    ]);
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    const common = { peerIdent: 'cowrie-geo', peerType: 'SSH/console(cowrie)', sourceEntryPort: '52202', targetEntryPort: '22', targetport: 'tcp' };
    await stored(expected({
      ...common, createTime: '2026-11-27 10:00:00', sourceEntryIp: '81.2.69.142', targetEntryIp: '89.160.20.112',
      source: { country: 'GB', countryName: 'United Kingdom', as: '-', location: '51.5142 , -0.0931' },
      target: { country: 'SE', countryName: 'Sweden', as: 'AS29518 Bredband2 AB', location: '58.4167 , 15.6167' },
    }));
    await stored(expected({
      ...common, createTime: '2026-11-27 10:00:01', sourceEntryIp: '2001:218::1', targetEntryIp: '2a02:cf40::1',
      source: { country: 'JP', countryName: 'Japan', as: '-', location: '35.68536 , 139.75309' },
      target: { country: 'NO', countryName: 'Norway', as: '-', location: '62.0 , 10.0' },
    }));
  });

  test('IPv6 addresses are stored canonical, so the same address always has the same id', async () => {
    const xml = ewsMessage([alertXml({ analyzer: 'cowrie-v6', source: '2001:0DB8:0:0::7', target: 'FE80::1' })]);
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    const doc = await running.app.store.getAlert(await idOf({
      createTime: '2026-11-27 10:00:00', sourceEntryIp: '2001:db8::7', targetEntryIp: 'fe80::1', originalRequestString: '', peerIdent: 'cowrie-v6',
    }));
    assert.equal(doc?.country, 'PIR', 'documentation range');
    assert.equal(doc?.targetCountry, 'PIR', 'link-local');
  });

  test('a resubmitted message changes nothing', async () => {
    const xml = ewsMessage([
      alertXml({ analyzer: 'cowrie-again', createTime: '2026-11-27 11:00:00' }),
      alertXml({ analyzer: 'cowrie-again', createTime: '2026-11-27 11:00:01' }),
    ]);
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    const id = await idOf({ createTime: '2026-11-27 11:00:00', sourceEntryIp: '81.2.69.142', targetEntryIp: '89.160.20.112', originalRequestString: '', peerIdent: 'cowrie-again' });
    const first = await running.app.store.getAlert(id);
    const count = await running.app.store.countAlerts();
    // A minute later on a mock clock (the server runs in this process): a rewrite would show a new recievedTime.
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 60_000 });
    try {
      assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    } finally {
      mock.timers.reset();
    }
    assert.equal(await running.app.store.countAlerts(), count);
    assert.deepEqual(await running.app.store.getAlert(id), first);
  });

  test('payloads are de-duplicated by md5 and by fuzzy HTTP hash, counting sightings', async () => {
    const request = (host: string): string => Buffer.from(`GET /shell.php HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: zgrab\r\n\r\n`).toString('base64');
    const xml = ewsMessage([
      alertXml({ analyzer: 'honeytrap-fz', createTime: '2026-11-27 12:00:00', requests: { raw: request('a.example') } }),
      alertXml({ analyzer: 'honeytrap-fz', createTime: '2026-11-27 12:00:01', requests: { raw: request('a.example') } }),
      alertXml({ analyzer: 'honeytrap-fz', createTime: '2026-11-27 12:00:02', requests: { raw: request('B.EXAMPLE:8080') } }),
    ]);
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    const first = md5(Buffer.from(request('a.example'), 'base64'));
    const kept = await running.app.store.getPayload(first);
    assert.equal(kept?.count, 3, 'same md5 twice, then the same request to another Host');
    assert.equal(await running.app.store.getPayload(md5(Buffer.from(request('B.EXAMPLE:8080'), 'base64'))), undefined);
    assert.equal(kept?.mimeType, 'text/plain');
    assert.equal(kept?.firstSourceIp, '81.2.69.142');
  });

  test('payloads of honeypots outside the payload classes are hashed but not kept; executables are sniffed', async () => {
    const elf = Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), Buffer.alloc(64, 7)]);
    const xml = ewsMessage([
      alertXml({ analyzer: 'cowrie-nopayload', requests: { raw: elf.toString('base64') } }),
      alertXml({ analyzer: 'glutton-01', additional: { binary: encodeURIComponent(elf.toString('base64')) } }),
    ]);
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    const cowrie = await running.app.store.getAlert(await idOf({ createTime: '2026-11-27 10:00:00', sourceEntryIp: '81.2.69.142', targetEntryIp: '89.160.20.112', originalRequestString: '', peerIdent: 'cowrie-nopayload' }));
    assert.equal(cowrie?.additionalData, JSON.stringify({ payload_md5: md5(elf) }));
    const glutton = await running.app.store.getAlert(await idOf({ createTime: '2026-11-27 10:00:00', sourceEntryIp: '81.2.69.142', targetEntryIp: '89.160.20.112', originalRequestString: '', peerIdent: 'glutton-01' }));
    assert.equal(glutton?.peerType, 'Network(glutton)');
    const kept = await running.app.store.getPayload(md5(elf));
    assert.equal(kept?.mimeType, 'application/x-executable');
    assert.equal(kept?.count, 1, 'only the glutton sighting counts: cowrie payloads are not kept');
    assert.equal(kept?.peerType, 'Network(glutton)');
  });

  test('a URL request with invalid percent escapes is kept as written, like Python unquote', async () => {
    const xml = ewsMessage([alertXml({ analyzer: 'glastopf-esc', requests: { url: '/a%zz%41%e2%82%ac%ff' } })]);
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    const doc = await running.app.store.getAlert(await idOf({ createTime: '2026-11-27 10:00:00', sourceEntryIp: '81.2.69.142', targetEntryIp: '89.160.20.112', originalRequestString: '/a%zzA€\ufffd', peerIdent: 'glastopf-esc' }));
    assert.equal(doc?.peerType, 'Webpage');
  });

  test('a private user stores private-domain alerts', async () => {
    await running.app.store.putUser({ peerName: 'acme', tokenHash: sha512Hex('s3cret'), community: false, getOnly: false, email: '' });
    const xml = ewsMessage([alertXml({ analyzer: 'cowrie-acme' })], { username: 'acme', token: 's3cret' });
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    const doc = await running.app.store.getAlert(await idOf({ createTime: '2026-11-27 10:00:00', sourceEntryIp: '81.2.69.142', targetEntryIp: '89.160.20.112', originalRequestString: '', peerIdent: 'cowrie-acme' }));
    assert.equal(doc?.clientDomain, false);
  });
});
