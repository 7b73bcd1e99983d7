/**
 * The `_bulk` bodies the OpenSearch store sends are built by hand (bulk-body.ts): byte for byte
 * they must be what the straightforward construction gives, the lines of JSON.stringify joined
 * with line breaks, for any ids and field values (quotes, backslashes, control characters,
 * non-ASCII, lone surrogate halves).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ALERT_FIELDS, type AlertDocument, type AlertRecord } from '../src/domain/alert';
import { actionLine, ndjson } from '../src/store/opensearch/bulk-body';
import { alertsBody, cvePairId } from '../src/store/opensearch/opensearch-store';
import { hostileText, seededRandom } from './helpers';

/** The straightforward body: lines joined with `\n`, one more at the end, encoded as UTF-8 at once. */
const joined = (lines: readonly string[]): Buffer => Buffer.from(`${lines.join('\n')}\n`);

test('ndjson: its bytes are the lines joined and encoded at once, also for lines that are not JSON', () => {
  const random = seededRandom(11);
  for (let i = 0; i < 200; i++) {
    const lines = Array.from({ length: 1 + Math.floor(random() * 8) }, () => (random() < 0.5 ? hostileText(random, 30) : JSON.stringify({ v: hostileText(random, 30) })));
    assert.deepEqual(ndjson(lines), joined(lines), `case ${i}: ${JSON.stringify(lines)}`);
  }
});

test('actionLine equals JSON.stringify of the action object', () => {
  const random = seededRandom(12);
  for (let i = 0; i < 500; i++) {
    const index = hostileText(random, 6);
    const id = hostileText(random, 20);
    for (const action of ['create', 'delete'] as const) {
      assert.equal(actionLine(action, index, id), JSON.stringify({ [action]: { _index: index, _id: id } }));
    }
  }
});

/** The pair id as the store computed it before: three updates of a sha256 Hash object. */
const pairIdByUpdates = (alertId: string, vulnid: string): string => createHash('sha256').update(alertId).update('\u0000').update(vulnid).digest('hex');

test('alertsBody: alerts and their CVE pairs, byte for byte the JSON.stringify lines, pair ids as before', () => {
  const random = seededRandom(13);
  for (let round = 0; round < 50; round++) {
    const records: AlertRecord[] = Array.from({ length: 1 + Math.floor(random() * 6) }, () => ({
      id: hostileText(random, 16),
      document: Object.fromEntries(ALERT_FIELDS.map((field) => [field, field === 'clientDomain' ? random() < 0.5 : hostileText(random)])) as unknown as AlertDocument,
      cves: Array.from({ length: Math.floor(random() * 3) }, () => hostileText(random, 5)),
      payloads: [],
    }));
    const indices = records.map(() => `ews-${hostileText(random, 3)}`);
    const cveIndex = hostileText(random, 4);
    const lines: string[] = [];
    records.forEach((record, i) => lines.push(JSON.stringify({ create: { _index: indices[i], _id: record.id } }), JSON.stringify(record.document)));
    const owners: number[] = [];
    const ids: string[] = [];
    records.forEach(({ id, document: doc, cves }, i) => {
      for (const vulnid of cves) {
        const pairId = pairIdByUpdates(id, vulnid);
        lines.push(JSON.stringify({ create: { _index: cveIndex, _id: pairId } }), JSON.stringify({
          alertId: id, vulnid, createTime: doc.createTime, recievedTime: doc.recievedTime, clientDomain: doc.clientDomain,
          peerIdent: doc.peerIdent, peerType: doc.peerType, sourceEntryIp: doc.sourceEntryIp, targetEntryIp: doc.targetEntryIp,
        }));
        owners.push(i);
        ids.push(pairId);
      }
    });
    const built = alertsBody(records, indices, cveIndex);
    assert.deepEqual(built.body.bytes(), joined(lines), `round ${round}`);
    assert.deepEqual(built.pairOwners, owners);
    assert.deepEqual(built.pairIds, ids);
  }
});

test('cvePairId: a lone surrogate half at either end of the alert id or the CVE id hashes as before', () => {
  for (const alertId of ['a', '\ud800', 'x\ud83d', '\udc00y', '😀', '']) {
    for (const vulnid of ['CVE-2024-1', '\udc00', '\ud800', '😀', '']) assert.equal(cvePairId(alertId, vulnid), pairIdByUpdates(alertId, vulnid));
  }
});
