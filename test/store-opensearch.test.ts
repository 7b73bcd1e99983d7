/** The store contract against the OpenSearch store on the launcher's node, and how a config selects it. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { loadConfig } from '../src/config';
import type { AlertRecord, PayloadSighting } from '../src/domain/alert';
import { formatUtc } from '../src/domain/time';
import { openStore } from '../src/store/open-store';
import { ClusterError, type Cluster } from '../src/store/opensearch/cluster';
import { dailyIndex } from '../src/store/opensearch/layout';
import { TRUSTED_FOR_MS } from '../src/store/opensearch/newest-created';
import { OpenSearchStore } from '../src/store/opensearch/opensearch-store';
import { alertRecord, alertXml, at, ewsMessage, postMessage, startApp } from './helpers';
import { openSearchTestStore, openSearchUrl, removeTestIndices, testIndexNames, withTestStore } from './opensearch-node';
import { storeContract } from './store-contract';

const names = testIndexNames();
storeContract('opensearch', async () => openSearchTestStore(names), async () => removeTestIndices(names));

test('an original PEBA config with STORE=opensearch: ELASTICSEARCH_HOST as host:port, alerts in <prefix>-YYYY.MM.DD-000001 of the ALERTINDEX alias', async () => {
  const own = testIndexNames();
  const prefix = own.alertPrefix;
  const config = loadConfig({
    file: undefined,
    env: {
      PEBA_STORE: 'opensearch', PEBA_ELASTICSEARCH_HOST: openSearchUrl().replace(/^http:\/\//, ''), PEBA_ELASTICTIMEOUT: '30',
      // The original's rollover alias shape: indices are named by the part before its year.
      PEBA_ALERTINDEX: `${prefix}2017.1`, PEBA_USERINDEX: own.users, PEBA_STATISTICINDEX: own.statistics,
      PEBA_CVEINDEX: own.cve, PEBA_PAYLOADINDEX: own.payloads, PEBA_LEASEINDEX: own.leases,
    },
  });
  const store = openStore(config);
  try {
    assert.equal(store.kind, 'opensearch');
    await store.ping();
    const received = Date.UTC(2026, 10, 27, 13, 5, 0);
    const record = alertRecord({ recievedTime: formatUtc(received), createTime: formatUtc(received) });
    assert.deepEqual(await store.storeAlerts([record]), { inserted: 1, duplicates: 0 });
    const response = await fetch(`${openSearchUrl()}/${prefix}-2026.11.27-000001/_doc/${record.id}`);
    assert.equal(response.status, 200);
    const stored = await response.json() as { _source: Record<string, unknown> };
    assert.deepEqual(stored._source, { ...record.document }, 'the document, field for field as the original writes it');
    const mapping = await (await fetch(`${openSearchUrl()}/${prefix}-2026.11.27-000001/_mapping`)).json() as Record<string, { mappings: { properties: Record<string, { type: string; format?: string }> } }>;
    const properties = Object.values(mapping)[0]!.mappings.properties;
    assert.equal(properties['recievedTime']?.type, 'date');
    assert.equal(properties['recievedTime']?.format, 'yyyy-MM-dd HH:mm:ss||yyyy-MM-dd||epoch_millis');
    assert.equal(properties['clientDomain']?.type, 'boolean');
    assert.equal(properties['sourceEntryIp']?.type, 'ip');
    assert.equal(properties['peerType']?.type, 'keyword');
  } finally {
    await store.close();
    await removeTestIndices(own);
  }
});

test('retention drops the daily indices of whole days before the cut, and deletes documents only in the day index it cuts', async () => {
  await withTestStore(async (store, own) => {
  const day = Date.UTC(2026, 10, 20);
  // 24 alerts per day on three days, one per hour; a CVE pair and a payload for each.
  const records = Array.from({ length: 72 }, (_, i) => ({
    ...alertRecord(at(day + i * 3600_000)),
    cves: ['CVE-2026-0001'],
  }));
  await store.storeAlerts(records);
  const indices = async (): Promise<string[]> =>
    ((await (await fetch(`${openSearchUrl()}/_cat/indices/${own.alertPrefix}-*?h=index&format=json`)).json()) as Array<{ index: string }>).map((i) => i.index).sort();
  // Beside today's and tomorrow's, which the store keeps ready.
  const current = [dailyIndex(own, Date.now()), dailyIndex(own, Date.now() + 86_400_000)];
  assert.deepEqual(await indices(), [...['20', '21', '22'].map((d) => `${own.alertPrefix}-2026.11.${d}-000001`), ...current]);
  const cut = day + 2 * 86_400_000 + 6 * 3600_000 + 1;
  assert.equal(await store.deleteReceivedBefore(cut), 24 + 24 + 7);
  assert.deepEqual(await indices(), [`${own.alertPrefix}-2026.11.22-000001`, ...current], 'whole days went as indices');
  assert.equal(await store.countAlerts(), 72 - 55);
  assert.equal(await store.countReceived('both', { from: day, to: cut }), 0);
  assert.equal((await store.listCveAlerts('CVE-2026-0001')).length, 72 - 55, 'the CVE pairs of deleted alerts went with them');
  });
});

test('today\'s and tomorrow\'s indices are allocated before the first write, so a question at the start of a day never meets one being created', async () => {
  await withTestStore(async (store, own) => {
    await store.ping();
    const current = [dailyIndex(own, Date.now()), dailyIndex(own, Date.now() + 86_400_000)];
    const health = await (await fetch(`${openSearchUrl()}/_cluster/health/${current.join(',')}?level=indices`)).json() as { indices: Record<string, { status: string }> };
    assert.deepEqual(Object.keys(health.indices).sort(), current);
    for (const index of current) assert.notEqual(health.indices[index]?.status, 'red', index);
    assert.equal(await store.countReceived('both', { from: Date.now() - 60_000, to: Date.now() }), 0);
  });
});

test('payload sightings count on the current version of a document found by fuzzy hash, not on what the last refresh showed', async () => {
  // Writes visible only after a refresh, as in production.
  await withTestStore(async (store, own) => {
  const sighting = (text: string): PayloadSighting => {
    const bytes = Buffer.from(text);
    return { md5: createHash('md5').update(bytes).digest('hex'), fuzzyHash: 'f'.repeat(64), mimeType: 'text/plain', size: bytes.length, content: () => bytes };
  };
  const first = sighting('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const withPayload = (payload: PayloadSighting): AlertRecord => ({ ...alertRecord(), payloads: [payload] });
  await store.storeAlerts([withPayload(first)]);
  await fetch(`${openSearchUrl()}/${own.payloads}/_refresh`, { method: 'POST' });
  // Counted again (a newer version the searches do not see yet), then the same request to another host.
  await store.storeAlerts([withPayload(first)]);
  await store.storeAlerts([withPayload(sighting('GET / HTTP/1.1\r\nHost: b\r\n\r\n'))]);
  assert.equal((await store.getPayload(first.md5))?.count, 3);
  }, { refresh: 'false' });
});

test('the same payload in many concurrent batches is counted once per sighting, without giving up on conflicts', async () => {
  await withTestStore(async (store) => {
    const bytes = Buffer.from('GET /concurrent HTTP/1.1\r\nHost: c\r\n\r\n');
    const payload: PayloadSighting = { md5: createHash('md5').update(bytes).digest('hex'), fuzzyHash: null, mimeType: 'text/plain', size: bytes.length, content: () => bytes };
    const batches = Array.from({ length: 12 }, () => [{ ...alertRecord(), payloads: [payload] }, { ...alertRecord(), payloads: [payload] }]);
    const outcomes = await Promise.all(batches.map((batch) => store.storeAlerts(batch)));
    assert.deepEqual(outcomes, batches.map(() => ({ inserted: 2, duplicates: 0 })));
    assert.equal((await store.getPayload(payload.md5))?.count, 24);
  }, { refresh: 'false' });
});

/** A payload sighting of `text`, with `fuzzyHash`. */
function payloadOf(text: string, fuzzyHash: string | null = null): PayloadSighting {
  const bytes = Buffer.from(text);
  return { md5: createHash('md5').update(bytes).digest('hex'), fuzzyHash, mimeType: 'text/plain', size: bytes.length, content: () => bytes };
}

test('a resent message leaves its payload documents as they were (counts, first and last seen), beside a new alert counted once', async () => {
  await withTestStore(async (store, own) => {
    const day = Date.UTC(2026, 10, 23, 12);
    const plain = payloadOf('GET /resend HTTP/1.1\r\n\r\n');
    const message = [{ ...alertRecord(at(day)), payloads: [plain] }, { ...alertRecord(at(day + 1000)), payloads: [plain] }];
    assert.deepEqual(await store.storeAlerts(message), { inserted: 2, duplicates: 0 });
    const stored = await store.getPayload(plain.md5);
    assert.equal(stored?.count, 2);
    // Resent an hour later the same day: received anew, the same ids.
    const resent = message.map((record) => ({ ...record, document: { ...record.document, ...at(day + 3600_000) } }));
    assert.deepEqual(await store.storeAlerts(resent), { inserted: 0, duplicates: 2 });
    assert.deepEqual(await store.getPayload(plain.md5), stored);
    const fresh = { ...alertRecord(at(day + 7200_000)), payloads: [plain] };
    assert.deepEqual(await store.storeAlerts([...resent, fresh]), { inserted: 1, duplicates: 2 });
    assert.deepEqual(await store.getPayload(plain.md5), { ...stored, count: 3, lastSeen: fresh.document.recievedTime });

    // A payload document missing (its first counting lost), resent through an instance that knows
    // nothing of it, first in the message before a new alert with a similar request (same fuzzy
    // hash): the resent alert's request gets no document, the new one's its own.
    const fuzzy = (host: string): PayloadSighting => payloadOf(`GET /lost HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'd'.repeat(64));
    const lost = { ...alertRecord(at(day)), payloads: [fuzzy('a')] };
    await store.storeAlerts([lost]);
    assert.equal((await fetch(`${openSearchUrl()}/${own.payloads}/_doc/${fuzzy('a').md5}?refresh=true`, { method: 'DELETE' })).status, 200);
    const other = openSearchTestStore(own);
    try {
      const similar = { ...alertRecord(at(day + 60_000)), payloads: [fuzzy('b')] };
      assert.deepEqual(await other.storeAlerts([lost, similar]), { inserted: 1, duplicates: 1 });
      assert.equal(await other.getPayload(fuzzy('a').md5), undefined);
      assert.deepEqual((await other.findPayloadsByFuzzyHash('d'.repeat(64))).map((p) => [p.md5, p.count, p.firstSeen, p.lastSeen, p.firstSourceIp]),
        [[fuzzy('b').md5, 1, similar.document.recievedTime, similar.document.recievedTime, similar.document.sourceEntryIp]]);
      assert.deepEqual(await other.storeAlerts([lost, similar]), { inserted: 0, duplicates: 2 });
      assert.equal((await other.getPayload(fuzzy('b').md5))?.count, 1);
    } finally {
      await other.close();
    }
  });
});

test('a message with an alert the cluster refuses: only its stored alerts\' payloads stay counted, and the resend counts the rest once', async () => {
  await withTestStore(async (store, own) => {
    const day = Date.UTC(2026, 10, 23, 12);
    const shared = payloadOf('GET /shared HTTP/1.1\r\n\r\n');
    const onlyRefused = payloadOf('GET /refused HTTP/1.1\r\n\r\n', 'c'.repeat(64));
    await store.storeAlerts([{ ...alertRecord(at(day)), payloads: [shared] }]);
    await store.storeAlerts([alertRecord(at(day + 86_400_000 + 1000))]);
    const block = (on: boolean): Promise<Response> => fetch(`${openSearchUrl()}/${own.alertPrefix}-2026.11.24-000001/_settings`,
      { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ 'index.blocks.write': on }) });
    const good = { ...alertRecord(at(day + 1000)), payloads: [shared] };
    const refused = { ...alertRecord(at(day + 86_400_000)), payloads: [shared, onlyRefused] };
    assert.equal((await block(true)).status, 200);
    for (let attempt = 0; attempt < 2; attempt++) {
      await assert.rejects(store.storeAlerts([good, refused]), /1 of 2 alerts not stored: cluster_block_exception/);
      const counted = await store.getPayload(shared.md5);
      assert.deepEqual([counted?.count, counted?.lastSeen], [2, good.document.recievedTime]);
      assert.equal(await store.getPayload(onlyRefused.md5), undefined);
      assert.deepEqual(await store.findPayloadsByFuzzyHash('c'.repeat(64)), []);
    }
    assert.equal((await block(false)).status, 200);
    assert.deepEqual(await store.storeAlerts([good, refused]), { inserted: 1, duplicates: 1 });
    const counted = await store.getPayload(shared.md5);
    assert.deepEqual([counted?.count, counted?.lastSeen], [3, refused.document.recievedTime]);
    assert.equal((await store.getPayload(onlyRefused.md5))?.count, 1);
  });
});

test('the newest alerts: newest daily indices first, past days without an index, a writer\'s clock a day ahead', async () => {
  await withTestStore(async (store) => {
    const day = 86_400_000;
    const today = Math.floor(Date.now() / day) * day;
    // No index today or yesterday: the newest are found 5 and 9 days back.
    const old = [9, 5].flatMap((back) => Array.from({ length: 3 }, (_, k) => alertRecord(at(today - back * day + k * 60_000))));
    await store.storeAlerts(old);
    const ids = (alerts: ReadonlyArray<{ id: string }>): string[] => alerts.map((a) => a.id);
    assert.deepEqual(ids(await store.newestReceived('both', 4)), ids([old[5]!, old[4]!, old[3]!, old[2]!]));
    // Two in one second of today (the later stored first), one in tomorrow's index.
    const todays = [alertRecord(at(today + 1000)), alertRecord(at(today + 1000))];
    const ahead = alertRecord(at(today + day + 60_000));
    await store.storeAlerts([todays[0]!]);
    await store.storeAlerts([todays[1]!, ahead]);
    assert.deepEqual(ids(await store.newestReceived('both', 1)), [ahead.id]);
    assert.deepEqual(ids(await store.newestReceived('both', 3)), ids([ahead, todays[1]!, todays[0]!]));
    assert.deepEqual(ids(await store.newestReceived('both', 5)), ids([ahead, todays[1]!, todays[0]!, old[5]!, old[4]!]));
    assert.deepEqual(ids(await store.newestReceived('both', 100)), ids([ahead, todays[1]!, todays[0]!, ...[...old].reverse()]));
    assert.deepEqual(await store.newestReceived('private', 5), [], 'the scope filters every step');
  });
});

test('the newest alerts of a source: a past day\'s index that another instance writes into is searched again once its reading is TRUSTED_FOR_MS old', async () => {
  await withTestStore(async (writer, own) => {
    let time = Date.now();
    const reader = new OpenSearchStore({ nodes: [openSearchUrl()], timeoutMs: 60_000, indices: own, refresh: 'true', clock: () => time });
    try {
      const source = '81.2.69.160';
      const today = Math.floor(time / 86_400_000) * 86_400_000;
      const pastDay = today - 3 * 86_400_000;
      const todays = Array.from({ length: 6 }, (_, k) => alertRecord({ ...at(today + k * 1000), sourceEntryIp: source }));
      const past = Array.from({ length: 3 }, (_, k) => alertRecord({ ...at(pastDay + k * 1000), sourceEntryIp: source }));
      await writer.storeAlerts([...todays, ...past]);
      const times = (alerts: ReadonlyArray<{ document: { createTime: string } }>): string[] => alerts.map((a) => a.document.createTime);
      const newestToday = times([...todays].reverse().slice(0, 5));
      assert.deepEqual(times(await reader.newestFromSource('both', source, 5)), newestToday);
      assert.deepEqual(times(await reader.newestFromSource('both', source, 8)), times([...[...todays].reverse(), past[2]!, past[1]!]), 'past the day: every index');
      // A sensor whose clock runs a day ahead, stored by the other instance into the past day's index.
      const ahead = alertRecord({ recievedTime: formatUtc(pastDay + 5000), createTime: formatUtc(time + 86_400_000), sourceEntryIp: source });
      await writer.storeAlerts([ahead]);
      // Until its reading is TRUSTED_FOR_MS old, the reader answers as of it: the same kind of delay as the engine's refresh interval.
      assert.deepEqual(times(await reader.newestFromSource('both', source, 5)), newestToday);
      time += TRUSTED_FOR_MS;
      const expected = [ahead.document.createTime, ...newestToday.slice(0, 4)];
      assert.deepEqual(times(await reader.newestFromSource('both', source, 5)), expected, 'the index moved: searched as live');
      time += TRUSTED_FOR_MS;
      assert.deepEqual(times(await reader.newestFromSource('both', source, 5)), expected, 'quiet again: its newest createTime read anew');
      time += TRUSTED_FOR_MS;
      assert.deepEqual(times(await reader.newestFromSource('both', source, 5)), expected);
    } finally {
      await reader.close();
    }
  });
});

test('the newest alerts of a source when index statistics are refused (no indices_monitor right): every index is searched, the same answers', async () => {
  await withTestStore(async (writer, own) => {
    let time = Date.now();
    const reader = new OpenSearchStore({ nodes: [openSearchUrl()], timeoutMs: 60_000, indices: own, refresh: 'true', clock: () => time });
    // The node answers _stats as a cluster without the right would: 403, for this reader only.
    const cluster = (reader as unknown as { cluster: Cluster }).cluster;
    const request = cluster.request.bind(cluster);
    let refused = 0;
    cluster.request = (async (method: string, path: string, ...rest: unknown[]) => {
      if (path.includes('/_stats/')) {
        refused++;
        throw new ClusterError(`${method} ${path}: 403 security_exception`, 403, undefined);
      }
      return (request as (...a: unknown[]) => Promise<unknown>)(method, path, ...rest);
    }) as typeof cluster.request;
    try {
      const source = '81.2.69.161';
      const today = Math.floor(time / 86_400_000) * 86_400_000;
      const todays = Array.from({ length: 6 }, (_, k) => alertRecord({ ...at(today + k * 1000), sourceEntryIp: source }));
      const ahead = alertRecord({ recievedTime: formatUtc(today - 3 * 86_400_000), createTime: formatUtc(time + 86_400_000), sourceEntryIp: source });
      await writer.storeAlerts([...todays, ahead]);
      const times = async (limit: number): Promise<string[]> => (await reader.newestFromSource('both', source, limit)).map((a) => a.document.createTime);
      const expected = [ahead, ...[...todays].reverse()].map((r) => r.document.createTime);
      assert.deepEqual(await times(5), expected.slice(0, 5), 'the past day\'s alert from a clock ahead comes first');
      assert.deepEqual(await times(10), expected);
      assert.equal(refused, 1, 'asked once per TRUSTED_FOR_MS, not on every question');
      time += TRUSTED_FOR_MS;
      assert.deepEqual(await times(5), expected.slice(0, 5));
      assert.equal(refused, 2, 'asked again after TRUSTED_FOR_MS');
    } finally {
      await reader.close();
    }
  });
});

test('two instances counting the same payloads in turn: each one\'s remembered version goes stale and is read again; every sighting counts once', async () => {
  await withTestStore(async (first, own) => {
    const second = openSearchTestStore(own, 'false');
    try {
      const payload = (text: string, fuzzyHash: string | null): PayloadSighting => {
        const bytes = Buffer.from(text);
        return { md5: createHash('md5').update(bytes).digest('hex'), fuzzyHash, mimeType: 'text/plain', size: bytes.length, content: () => bytes };
      };
      const plain = payload('GET /turns HTTP/1.1\r\n\r\n', null);
      const fuzzy = (host: string): PayloadSighting => payload(`GET /fuzzy HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'e'.repeat(64));
      const batch = (host: string): AlertRecord[] => [{ ...alertRecord(), payloads: [plain] }, { ...alertRecord(), payloads: [fuzzy(host)] }];
      for (let round = 0; round < 4; round++) {
        assert.deepEqual(await first.storeAlerts(batch(`a${round}`)), { inserted: 2, duplicates: 0 });
        // The fuzzy hash's first document is found by a search: made visible once, as the refresh interval would.
        if (round === 0) await fetch(`${openSearchUrl()}/${own.payloads}/_refresh`, { method: 'POST' });
        assert.deepEqual(await second.storeAlerts(batch(`b${round}`)), { inserted: 2, duplicates: 0 });
      }
      assert.equal((await first.getPayload(plain.md5))?.count, 8);
      assert.equal((await second.getPayload(plain.md5))?.count, 8);
      // Every request of the fuzzy hash counted on the first one's document; no other was created.
      assert.equal((await first.getPayload(fuzzy('a0').md5))?.count, 8);
      assert.equal(await first.getPayload(fuzzy('b3').md5), undefined);
      // A resend counts nothing, though the sender remembers the versions it wrote.
      const resent = batch('a0');
      await first.storeAlerts(resent);
      assert.deepEqual(await first.storeAlerts(resent), { inserted: 0, duplicates: 2 });
      assert.equal((await first.getPayload(plain.md5))?.count, 9);
    } finally {
      await second.close();
    }
  }, { refresh: 'false' });
});

test('CVE pairs ride in the alerts\' _bulk; the pair of an alert the cluster refused is removed again, and a resend stores nothing twice', async () => {
  await withTestStore(async (store, own) => {
    const cve = 'CVE-2026-0002';
    const day = Date.UTC(2026, 10, 23, 12);
    const good = { ...alertRecord(at(day)), cves: [cve] };
    // The next day's index refuses writes: the cluster fails that alert's item alone, not its CVE pair's.
    const bad = { ...alertRecord(at(day + 86_400_000)), cves: [cve] };
    await store.storeAlerts([alertRecord(at(day + 86_400_000 + 1000))]);
    const blocked = `${openSearchUrl()}/${own.alertPrefix}-2026.11.24-000001/_settings`;
    const block = (on: boolean): Promise<Response> =>
      fetch(blocked, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ 'index.blocks.write': on }) });
    assert.equal((await block(true)).status, 200);
    await assert.rejects(store.storeAlerts([good, bad]), /1 of 2 alerts not stored: cluster_block_exception/);
    assert.deepEqual((await store.listCveAlerts(cve)).map((row) => row.alertId), [good.id]);
    await assert.rejects(store.storeAlerts([good, bad]), /1 of 2 alerts not stored/);
    assert.deepEqual((await store.listCveAlerts(cve)).map((row) => row.alertId), [good.id]);
    assert.equal((await block(false)).status, 200);
    assert.deepEqual(await store.storeAlerts([good, bad]), { inserted: 1, duplicates: 1 });
    assert.deepEqual((await store.listCveAlerts(cve)).map((row) => row.alertId).sort(), [good.id, bad.id].sort());
    assert.equal(await store.countAlerts(), 3);
  });
});

/** An alert index made outside our template (dates in `dateFormat`, strings mapped dynamically) holding `records`. */
async function foreignIndex(index: string, dateFormat: string, records: readonly AlertRecord[]): Promise<void> {
  const date = { type: 'date', format: dateFormat };
  await fetch(`${openSearchUrl()}/${index}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: { properties: { createTime: date, recievedTime: date } } }),
  });
  const lines = records.flatMap((r) => [JSON.stringify({ create: { _index: index, _id: r.id } }), JSON.stringify(r.document)]);
  await fetch(`${openSearchUrl()}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `${lines.join('\n')}\n` });
}

test('a cluster mapped dynamically (strings as text with .keyword) is read as it is, beside indices of our template', async () => {
  const own = testIndexNames();
  const old = `${own.alertPrefix}-2026.11.20-000001`;
  const day = Date.UTC(2026, 10, 20, 10);
  const oldRecords = Array.from({ length: 6 }, (_, i) => alertRecord({
    ...at(day + i * 60_000), peerType: i < 4 ? 'SSH/console(cowrie)' : 'Webpage', sourceEntryIp: `81.2.69.${150 + (i % 2)}`,
    location: i < 5 ? '51.5142 , -0.0931' : '58.4167 , 15.6167',
  }));
  // An index as older deployments have it: dates mapped, every string left to dynamic mapping.
  await foreignIndex(old, 'yyyy-MM-dd HH:mm:ss||yyyy-MM-dd||epoch_millis', oldRecords);
  const mapping = await (await fetch(`${openSearchUrl()}/${old}/_mapping/field/peerType`)).json() as Record<string, { mappings: { peerType: { mapping: { peerType: { type: string } } } } }>;
  assert.equal(mapping[old]!.mappings.peerType.mapping.peerType.type, 'text', 'the old index is mapped dynamically');

  const store = openSearchTestStore(own);
  try {
    // A newer day written by us, with our template.
    const next = Date.UTC(2026, 10, 21, 10);
    await store.storeAlerts([alertRecord({ ...at(next), peerType: 'Webpage', sourceEntryIp: '81.2.69.150' })]);
    const range = { from: day, to: next + 1000 };
    assert.deepEqual(await store.countReceivedByPeerType('both', range), [{ key: 'SSH/console(cowrie)', count: 4 }, { key: 'Webpage', count: 3 }]);
    assert.deepEqual(await store.sourcesReceived('both', range), [{ key: '81.2.69.150', count: 4 }, { key: '81.2.69.151', count: 3 }]);
    assert.deepEqual((await store.topLocationsCreated('both', range, 'source', 1)), [{ key: '51.5142 , -0.0931', count: 6 }]);
    assert.equal((await store.newestFromSource('both', '81.2.69.151', 10)).length, 3);
    assert.deepEqual(await store.getAlert(oldRecords[0]!.id), oldRecords[0]!.document);
  } finally {
    await store.close();
    await removeTestIndices(own);
  }
});

test('an index whose dates do not read epoch milliseconds: every time range names its format, beside indices of our template', async () => {
  const own = testIndexNames();
  const day = Date.UTC(2026, 10, 20, 10);
  // Text dates only: a bare number as a range bound would not parse there (a 400 for every question).
  await foreignIndex(`${own.alertPrefix}-2026.11.20-000001`, 'yyyy-MM-dd HH:mm:ss', Array.from({ length: 3 }, (_, i) => alertRecord({ ...at(day + i * 60_000) })));
  const store = openSearchTestStore(own);
  try {
    const next = Date.UTC(2026, 10, 21, 10);
    await store.storeAlerts([alertRecord({ ...at(next) })]);
    const range = { from: day, to: next + 1000 };
    assert.equal(await store.countReceived('both', range), 4);
    assert.equal(await store.countReceived('both', { from: day + 60_000, to: next }), 2, 'bounds inside the day, to the second');
    assert.deepEqual(await store.createdPerDay('both', range), [{ day: Date.UTC(2026, 10, 20), count: 3 }, { day: Date.UTC(2026, 10, 21), count: 1 }]);
  } finally {
    await store.close();
    await removeTestIndices(own);
  }
});

test('a message stored just before midnight UTC and resent just after it is stored once', async () => {
  await withTestStore(async (store, own) => {
  const midnight = Date.UTC(2026, 10, 22);
  // Early in a day whose previous day has no index at all: stored as usual.
  const lonely = alertRecord(at(midnight - 86_400_000 + 60_000));
  assert.deepEqual(await store.storeAlerts([lonely]), { inserted: 1, duplicates: 0 });
  const message = [alertRecord(at(midnight - 1000)), alertRecord(at(midnight - 2000))];
  assert.deepEqual(await store.storeAlerts(message), { inserted: 2, duplicates: 0 });
  // The resend: the same ids, received again (so dated) 30 s after midnight; one alert is new.
  const resent = message.map((r) => ({ ...r, document: { ...r.document, ...at(midnight + 30_000) } }));
  const added = alertRecord(at(midnight + 30_000));
  assert.deepEqual(await store.storeAlerts([...resent, added]), { inserted: 1, duplicates: 2 });
  assert.equal(await store.countAlerts(), 4);
  // Later in the day the previous day is not consulted: the cost stays with the first hour.
  const late = { ...message[0]!, document: { ...message[0]!.document, ...at(midnight + 2 * 3600_000) } };
  assert.deepEqual(await store.storeAlerts([late]), { inserted: 1, duplicates: 0 });
  });
});

test('the first alerts into a fresh index namespace: queries meanwhile answer 200 or 503 (never 500), and right after the post they count it', async () => {
  const own = testIndexNames();
  const running = await startApp({
    STORE: `opensearch+${openSearchUrl()}`, ALERTINDEX: own.alertPrefix, USERINDEX: own.users, STATISTICINDEX: own.statistics,
    CVEINDEX: own.cve, PAYLOADINDEX: own.payloads, LEASEINDEX: own.leases, OPENSEARCH_REFRESH: 'true',
  });
  try {
    const queries = ['/alert/retrieveAlertsCount?time=day&out=json', '/alert/retrieveAlertsJson', '/alert/retrieveAlertStats', '/alert/tops?type=destports&topx=5&days=1'];
    // Queries start with the post and keep coming until it is answered: they meet the new daily
    // index while it is created and its shard allocated.
    let posted = false;
    const statuses: number[] = [];
    const querying = (async () => {
      while (!posted) {
        const answers = await Promise.all(queries.map((path) => fetch(running.url + path)));
        for (const answer of answers) {
          statuses.push(answer.status);
          await answer.text();
        }
      }
    })();
    const post = await postMessage(running.url, ewsMessage([alertXml({ sourcePort: '40001' }), alertXml({ sourcePort: '40002' })]));
    posted = true;
    await querying;
    assert.equal(post.status, 200, post.text);
    assert.deepEqual(statuses.filter((status) => status !== 200 && status !== 503), [], 'only 200 or 503 while the index is created');
    const count = await (await fetch(`${running.url}/alert/retrieveAlertsCount?time=day&out=json`)).json() as { AlertCount: number };
    assert.equal(count.AlertCount, 2);
  } finally {
    await running.close();
    await removeTestIndices(own);
  }
});
