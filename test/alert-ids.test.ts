/**
 * Alert ids (CONTRACT, "Document id", improved): distinct attacks stay distinct, a resubmission
 * stores nothing new, imported `_id`s are kept exactly, and stored md5 ids keep their form.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { sha512Hex } from '../src/auth/tokens';
import type { AlertDocument, ParsedAlert } from '../src/domain/alert';
import { alertId, documentId } from '../src/enrich/alert-record';
import { ALERT_FIELDS } from '../src/domain/alert';
import { parseAddress } from '../src/net/address';
import type { StoredAlert } from '../src/domain/query';
import { exportAlerts, importAlerts } from '../src/jobs/import-export';
import type { AlertStore } from '../src/store/store';
import { alertRecord, alertXml, ewsMessage, hostileText, OK_REPLY, postMessage, seededRandom, startApp, withStore, type RunningApp } from './helpers';

async function listAll(store: AlertStore): Promise<StoredAlert[]> {
  const all: StoredAlert[] = [];
  for await (const alert of store.exportAlerts()) all.push(alert);
  return all;
}

async function storedBy(store: AlertStore, peerIdent: string): Promise<StoredAlert[]> {
  return (await listAll(store)).filter((alert) => alert.document.peerIdent === peerIdent);
}

test('alertId: the same facts in any order give the same md5 hex; any one fact changed gives another', () => {
  const parsed = (changes: Partial<ParsedAlert> = {}): ParsedAlert => ({
    analyzerId: 'cowrie-unit', createTime: '2026-11-27 10:00:00',
    source: { address: parseAddress('81.2.69.142')!, port: '52202', protocol: 'tcp' },
    target: { address: parseAddress('89.160.20.112')!, port: '22', protocol: 'tcp' },
    requests: new Map([['description', 'Cowrie']]),
    additional: new Map([['username', 'root'], ['password', '123456']]),
    ...changes,
  });
  const cowrie = 'SSH/console(cowrie)';
  const base = alertId(parsed(), cowrie, 'community');
  assert.match(base, /^[0-9a-f]{32}$/);
  assert.equal(alertId(parsed({ additional: new Map([['password', '123456'], ['username', 'root']]) }), cowrie, 'community'), base);
  const variants: Array<[string, string]> = [
    ['password', alertId(parsed({ additional: new Map([['username', 'root'], ['password', '1234567']]) }), cowrie, 'community')],
    ['a fact moved between meanings', alertId(parsed({ additional: new Map([['username', 'root1'], ['password', '23456']]) }), cowrie, 'community')],
    ['source port', alertId(parsed({ source: { ...parsed().source, port: '52203' } }), cowrie, 'community')],
    ['target protocol', alertId(parsed({ target: { ...parsed().target, protocol: 'udp' } }), cowrie, 'community')],
    ['request', alertId(parsed({ requests: new Map([['description', 'Cowrie'], ['url', '/']]) }), cowrie, 'community')],
    ['sensor', alertId(parsed({ analyzerId: 'cowrie-unit2' }), cowrie, 'community')],
    ['time', alertId(parsed({ createTime: '2026-11-27 10:00:01' }), cowrie, 'community')],
    ['domain', alertId(parsed(), cowrie, 'private')],
  ];
  for (const [what, id] of variants) assert.notEqual(id, base, what);
  assert.equal(new Set(variants.map(([, id]) => id)).size, variants.length);
  const conpot = 'Industrial(conpot)';
  assert.notEqual(alertId(parsed(), conpot, 'community'), alertId(parsed(), conpot, 'community'), 'conpot ids are salted');
});

/** The straightforward form of an id: every length prefix and part its own update of the hash. */
function partByPart(parts: readonly string[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:`).update(part);
  return hash.digest('hex');
}

/** A map's entries as the id's parts: their count, then key and value in key order. */
function sortedParts(m: ReadonlyMap<string, string>): string[] {
  return [String(m.size), ...[...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).flat()];
}

test('alertId is md5 over each part as `<utf-8 length>:<part>`, fed part by part (the form stored ids have)', () => {
  const alert = (requests: Map<string, string>, additional: Map<string, string>): ParsedAlert => ({
    analyzerId: 'sensor-ü', createTime: '2026-11-27 10:00:00',
    source: { address: parseAddress('2001:db8::1')!, port: '52202', protocol: 'tcp' },
    target: { address: parseAddress('89.160.20.112')!, port: '22', protocol: 'tcp' },
    requests, additional,
  });
  // Non-ASCII, an emoji, and lone surrogate halves at the ends of parts (each encodes as U+FFFD).
  const cases: Array<[Map<string, string>, Map<string, string>]> = [
    [new Map([['description', 'Cowrie']]), new Map([['username', 'root'], ['password', '123456']])],
    [new Map([['url', '/ä?q=😀'], ['description', '']]), new Map([['b', '\ud83d'], ['a', '\ude00x']])],
    [new Map(), new Map([['x\ud800', '\udc00']])],
  ];
  for (const [requests, additional] of cases) {
    const parts = ['community', 'sensor-ü', '2026-11-27 10:00:00', '2001:db8::1', '52202', 'tcp', '89.160.20.112', '22', 'tcp', ...sortedParts(requests), ...sortedParts(additional)];
    assert.equal(alertId(alert(requests, additional), 'SSH/console(cowrie)', 'community'), partByPart(parts));
  }
});

test('alertId and documentId over generated hostile facts equal the part-by-part md5 (quotes, controls, non-ASCII, lone surrogates)', () => {
  const random = seededRandom(20261201);
  const entries = (): Map<string, string> => {
    const m = new Map<string, string>();
    const n = Math.floor(random() * 6);
    for (let i = 0; i < n; i++) m.set(hostileText(random, 4), hostileText(random));
    return m;
  };
  for (let i = 0; i < 300; i++) {
    const sample = random() < 0.2 ? { md5: hostileText(random, 3), size: 1, mimeType: 'x', fuzzyHash: null, content: null } : undefined;
    const alert: ParsedAlert = {
      analyzerId: hostileText(random), createTime: hostileText(random),
      source: { address: parseAddress(random() < 0.5 ? '81.2.69.142' : '2001:db8::1')!, port: hostileText(random, 2), protocol: hostileText(random, 2) },
      target: { address: parseAddress('89.160.20.112')!, port: hostileText(random, 2), protocol: hostileText(random, 2) },
      requests: entries(), additional: entries(), ...(sample === undefined ? {} : { sample }),
    };
    const domain = random() < 0.5 ? 'community' : 'private';
    const parts = [domain, alert.analyzerId, alert.createTime, alert.source.address.text, alert.source.port, alert.source.protocol,
      alert.target.address.text, alert.target.port, alert.target.protocol, ...sortedParts(alert.requests), ...sortedParts(alert.additional),
      ...(sample === undefined ? [] : [`largepayload md5 ${sample.md5}`])];
    assert.equal(alertId(alert, 'SSH/console(cowrie)', domain), partByPart(parts), `case ${i}`);
    const document = Object.fromEntries(ALERT_FIELDS.map((field) => [field, field === 'clientDomain' ? random() < 0.5 : hostileText(random)])) as unknown as AlertDocument;
    assert.equal(documentId(document), partByPart(ALERT_FIELDS.map((field) => String(document[field]))), `document ${i}`);
  }
});

describe('ingest: what tells two attacks apart', () => {
  let running: RunningApp;
  before(async () => {
    running = await startApp();
  });
  after(async () => {
    await running.close();
  });

  /** Posts `xml` twice; returns the alerts of `peerIdent` after the first post and checks the second stored nothing. */
  async function postTwice(xml: string, peerIdent: string): Promise<StoredAlert[]> {
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    const first = await storedBy(running.app.store, peerIdent);
    const count = await running.app.store.countAlerts();
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    assert.equal(await running.app.store.countAlerts(), count, 'the same message again stores nothing new');
    assert.deepEqual(await storedBy(running.app.store, peerIdent), first, 'and changes nothing stored');
    return first;
  }

  test('four parallel cowrie logins from one address in one second: four alerts, every username/password kept', async () => {
    const logins = [['root', '123456'], ['root', 'admin'], ['admin', 'admin'], ['pi', 'raspberry']] as const;
    const xml = ewsMessage(logins.map(([username, password], i) => alertXml({
      analyzer: 'cowrie-parallel', sourcePort: String(40000 + i), additional: { username, password, login: 'Fail' },
    })));
    const stored = await postTwice(xml, 'cowrie-parallel');
    assert.deepEqual(stored.map((a) => [a.document.username, a.document.password]).sort(), logins.map((l) => [...l]).sort());
    assert.equal(new Set(stored.map((a) => a.id)).size, 4);
    for (const alert of stored) assert.match(alert.id, /^[0-9a-f]{32}$/, 'ingested alerts keep md5 hex ids');
  });

  test('the same login pair from the same port twice, differing only in the password: two alerts', async () => {
    const xml = ewsMessage(['x', 'y'].map((password) => alertXml({ analyzer: 'cowrie-sameport', additional: { username: 'root', password } })));
    assert.equal((await postTwice(xml, 'cowrie-sameport')).length, 2);
  });

  test('heralding attempts differing only in username/password: each kept', async () => {
    const xml = ewsMessage(['a', 'b', 'c'].map((user) => alertXml({
      analyzer: 'heralding-01', targetPort: '21', requests: { description: 'Heralding' }, additional: { username: user, password: 'pw', protocol: 'ftp' },
    })));
    const stored = await postTwice(xml, 'heralding-01');
    assert.deepEqual(stored.map((a) => a.document.username).sort(), ['a', 'b', 'c']);
  });

  test('honeytrap connections to one port in one second from different source ports: each kept', async () => {
    const xml = ewsMessage(['1001', '1002', '1003', '1004'].map((port) => alertXml({
      analyzer: 'honeytrap-conn', sourcePort: port, targetPort: '445', requests: { description: 'NetworkHoneypot' },
    })));
    const stored = await postTwice(xml, 'honeytrap-conn');
    assert.deepEqual(stored.map((a) => a.document.sourceEntryPort).sort(), ['1001', '1002', '1003', '1004']);
    for (const alert of stored) assert.equal(alert.document.originalRequestString, 'Attack on port 445/tcp');
  });

  test('facts outside the document (a Request the document does not keep) still tell alerts apart', async () => {
    const xml = ewsMessage(['one', 'two'].map((text) => alertXml({ analyzer: 'dionaea-desc', requests: { description: text } })));
    assert.equal((await postTwice(xml, 'dionaea-desc')).length, 2);
  });

  test('the same alert twice in one message is stored once', async () => {
    const alert = alertXml({ analyzer: 'cowrie-twice', additional: { username: 'u', password: 'p' } });
    assert.equal((await postTwice(ewsMessage([alert, alert]), 'cowrie-twice')).length, 1);
  });

  test('the same alert from the community and from a private user: one in each domain', async () => {
    await running.app.store.putUser({ peerName: 'acme-ids', tokenHash: sha512Hex('t0ken'), community: false, getOnly: false, email: '' });
    const alert = alertXml({ analyzer: 'cowrie-both' });
    assert.equal((await postMessage(running.url, ewsMessage([alert]))).text, OK_REPLY);
    assert.equal((await postMessage(running.url, ewsMessage([alert], { username: 'acme-ids', token: 't0ken' }))).text, OK_REPLY);
    const stored = await storedBy(running.app.store, 'cowrie-both');
    assert.deepEqual(stored.map((a) => a.document.clientDomain).sort(), [false, true]);
  });

  test('conpot keeps its exception: identical events are all kept, also when resent', async () => {
    const alert = alertXml({ analyzer: 'conpot-ids', additional: { conpot_event_type: 'NEW_CONNECTION' } });
    const xml = ewsMessage([alert, alert]);
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    assert.equal((await storedBy(running.app.store, 'conpot-ids')).length, 2);
    assert.equal((await postMessage(running.url, xml)).text, OK_REPLY);
    assert.equal((await storedBy(running.app.store, 'conpot-ids')).length, 4);
  });
});

describe('import: the _id is the document identity', () => {
  const doc: Partial<AlertDocument> = {
    createTime: '2026-01-10 10:15:00', recievedTime: '2026-01-10 10:15:02', clientDomain: true, peerIdent: 'cowrie-es',
    sourceEntryIp: '81.2.69.142', targetEntryIp: '89.160.20.112',
  };
  const hit = (id: unknown): string => JSON.stringify({ _index: 'ews-2026.01.10', _id: id, _source: doc });
  // Elasticsearch auto ids: 20 characters of URL-safe base64.
  const autoIds = ['fQ0cpZMBcL1LbrqPYz-1', 'fg0cpZMBcL1LbrqPYz-1', 'fw0cpZMBcL1LbrqPYz_1', 'gA0cpZMBcL1LbrqPYz-1'];

  test('4 documents with the same content and 4 different auto ids import as 4; the same _id again is not imported', async () => {
    await withStore(async (store) => {
      const result = await importAlerts(store, Readable.from([[...autoIds, autoIds[2]].map(hit).join('\n')]));
      assert.deepEqual([result.imported, result.duplicates, result.skipped], [4, 1, 0]);
      assert.deepEqual((await listAll(store)).map((a) => a.id), autoIds);
      const again = await importAlerts(store, Readable.from([autoIds.map(hit).join('\n')]));
      assert.deepEqual([again.imported, again.duplicates], [0, 4]);
      assert.equal(await store.countAlerts(), 4);
      assert.equal((await store.getAlert(autoIds[1]!))?.peerIdent, 'cowrie-es');
    });
  });

  test('any string id up to 512 bytes is kept exactly and exported back; case matters; md5 hex ids too', async () => {
    const md5 = '0123456789abcdef0123456789abcdef';
    const ids = [md5, md5.toUpperCase(), 'ä-€-𝄞 id with spaces', 'x'.repeat(512), '0123456789abcdef', '42'];
    await withStore(async (store) => {
      const result = await importAlerts(store, Readable.from([ids.map(hit).join('\n')]));
      assert.deepEqual([result.imported, result.skipped], [ids.length, 0]);
      const chunks: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk.toString());
          done();
        },
      });
      assert.equal(await exportAlerts(store, sink), ids.length);
      const exported = chunks.join('').trim().split('\n').map((line) => (JSON.parse(line) as { _id: string })._id);
      assert.deepEqual(exported, ids);
      for (const id of ids) assert.equal((await store.getAlert(id))?.peerIdent, 'cowrie-es', id);
    });
  });

  test('an _id that Elasticsearch could not hold is a malformed line: empty, over 512 bytes, not text', async () => {
    await withStore(async (store) => {
      const reasons: string[] = [];
      const bad = ['', 'x'.repeat(513), 'é'.repeat(257), 12345, null];
      const result = await importAlerts(store, Readable.from([bad.map(hit).join('\n')]), { onMalformed: (_line, reason) => reasons.push(reason) });
      assert.deepEqual([result.imported, result.skipped], [0, bad.length]);
      for (const reason of reasons) assert.match(reason, /^invalid _id /);
      assert.equal(await store.countAlerts(), 0);
    });
  });

  test('bare documents without _id: distinct documents stay distinct, the same one twice is stored once', async () => {
    await withStore(async (store) => {
      const lines = [doc, { ...doc, username: 'root' }, { ...doc, username: 'admin' }, doc].map((d) => JSON.stringify(d));
      const result = await importAlerts(store, Readable.from([lines.join('\n')]));
      assert.deepEqual([result.imported, result.duplicates], [3, 1]);
    });
  });
});

test('stored md5 ids keep the 16-byte form of existing databases; other ids are text in the same column', async () => {
  await withStore(async (store, dir) => {
    const md5 = 'fedcba9876543210fedcba9876543210';
    const withCve = (id: string) => ({ ...alertRecord({ vulnid: 'CVE-2020-0001' }, id), cves: ['CVE-2020-0001'] });
    await store.storeAlerts([withCve(md5), withCve('AbCdEfGhIjKlMnOpQrSt')]);
    const db = new Database(join(dir, 'peba.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT typeof(id) AS type, length(id) AS size FROM alerts ORDER BY seq').all();
      assert.deepEqual(rows, [{ type: 'blob', size: 16 }, { type: 'text', size: 20 }]);
      const cves = db.prepare('SELECT typeof(alert_id) AS type FROM cve_alerts ORDER BY type').all();
      assert.deepEqual(cves, [{ type: 'blob' }, { type: 'text' }]);
    } finally {
      db.close();
    }
    assert.deepEqual((await store.listCveAlerts('CVE-2020-0001')).map((c) => c.alertId).sort(), ['AbCdEfGhIjKlMnOpQrSt', md5]);
    // A 16-character text id whose bytes equal an md5's bytes is still a different id.
    const lookalike = Buffer.from(md5, 'hex').toString('latin1');
    assert.equal(await store.getAlert(lookalike), undefined);
  });
});
