import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import type { AlertDocument } from '../src/domain/alert';
import type { StatisticsSnapshot, StoredAlert } from '../src/domain/query';
import type { UserRecord } from '../src/store/store';
import { parseUtc } from '../src/domain/time';
import { documentId } from '../src/enrich/alert-record';
import { importDocument, normaliseTime } from '../src/ingest/alert-import';
import { exportAlerts, importAlerts, type ImportOptions } from '../src/jobs/import-export';
import { dailyIndex } from '../src/store/opensearch/layout';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { alertRecord, at, REPO_ROOT, tempDir, withStore } from './helpers';
import { openSearchUrl, removeTestIndices, testIndexNames } from './opensearch-node';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

/** A document with every field set to a value that differs from the defaults. */
const FULL: AlertDocument = {
  createTime: '2026-01-10 10:15:00',
  recievedTime: '2026-01-10 10:15:02',
  clientDomain: true,
  peerIdent: 'cowrie-community-01',
  peerType: 'SSH/console(cowrie)',
  sourceEntryIp: '81.2.69.142',
  sourceEntryPort: '52202',
  targetEntryIp: '89.160.20.112',
  targetEntryPort: '22',
  targetport: 'tcp',
  country: 'GB',
  countryName: 'United Kingdom',
  sourceEntryAS: 'AS123 Example',
  location: '51.5142 , -0.0931',
  targetCountry: 'SE',
  targetCountryName: 'Sweden',
  targetEntryAS: 'AS29518 Bredband2 AB',
  locationDestination: '58.4167 , 15.6167',
  originalRequestString: '(CVE-2017-0144 CVE-2017-0145) uname -a',
  username: 'root',
  password: '123456',
  login: 'Success',
  clientVersion: 'SSH-2.0-Go',
  sessionStart: '2026-01-10T10:14:58',
  sessionEnd: '2026-01-10T10:15:01',
  vulnid: 'CVE-2017-0144 CVE-2017-0145',
  additionalData: '{"protocol":"ssh"}',
  rawhttp: 'GET / HTTP/1.1',
  externalIP: '203.0.113.7',
  internalIP: '10.0.0.7',
  hostname: 'sensor-a',
  client: '-',
};

const FULL_ID = '0123456789abcdef0123456789abcdef';

const CLEAR_TOKEN = 'a clear token that must never be exported';
const USERS: UserRecord[] = [
  { peerName: 'community-01', tokenHash: createHash('sha512').update(CLEAR_TOKEN).digest('hex'), community: true, getOnly: false, email: 'a@example.org' },
  { peerName: 'reader', tokenHash: createHash('md5').update('legacy').digest('hex'), community: false, getOnly: true, email: '' },
];
const SNAPSHOTS: StatisticsSnapshot[] = [
  { from: '2026-11-25 00:00:00', to: '2026-11-25 00:10:00', values: { comm_totalRatio: 0.25, 'comm_ratio_SSH/console(cowrie)': 12 } },
  { from: '2026-11-25 00:10:00', to: '2026-11-25 00:20:00', values: { comm_totalRatio: 1 } },
  { from: '2026-11-26 00:00:00', to: '2026-11-26 00:10:00', values: {} },
];

function hit(id: string, source: object): string {
  return JSON.stringify({ _index: 'ews-2026.01.10-000001', _type: '_doc', _id: id, _score: 1, _source: source });
}

function importLines(store: SqliteStore, lines: string[], options: ImportOptions = {}) {
  return importAlerts(store, Readable.from([lines.join('\n')]), options);
}

async function listAll(store: SqliteStore): Promise<StoredAlert[]> {
  const all: StoredAlert[] = [];
  for await (const alert of store.exportAlerts()) all.push(alert);
  return all;
}

function collect(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
    child.stdin.end(stdin ?? '');
  });
}

test('a hit with every field keeps every field and its _id; CVEs go to the CVE store', async () => {
  await withStore(async (store) => {
    const result = await importLines(store, [hit(FULL_ID, FULL)]);
    assert.deepEqual({ ...result, unknownFields: [...result.unknownFields] },
      { lines: 1, imported: 1, duplicates: 0, skipped: 0, usersImported: 0, usersPresent: 0, snapshotsImported: 0, snapshotsPresent: 0, unknownFields: [] });
    assert.deepEqual(await store.getAlert(FULL_ID), FULL);
    const cves = await store.listCveAlerts('CVE-2017-0145');
    assert.equal(cves.length, 1);
    assert.equal(cves[0]!.alertId, FULL_ID);
    assert.equal((await store.listCveAlerts('CVE-2017-0144')).length, 1);
  });
});

test('a bare document: defaults of a fresh alert, id computed, peerType classified, loose types accepted', async () => {
  await withStore(async (store) => {
    const bare = {
      createTime: 1768040100000, // 2026-01-10 10:15:00 UTC, epoch millis
      clientDomain: 'false',
      peerIdent: 'dionaea.dio',
      sourceEntryIp: '2001:0db8:0000::1',
      targetEntryIp: '89.160.20.112',
      targetEntryPort: 445,
      additionalData: { protocol: 'smb', payload_md5: 'abc' },
      legacyField: 'x',
    };
    const result = await importLines(store, [JSON.stringify(bare)]);
    assert.equal(result.imported, 1);
    assert.deepEqual(result.unknownFields, ['legacyField']);
    const [stored] = await listAll(store);
    const expected: AlertDocument = {
      createTime: '2026-01-10 10:15:00',
      recievedTime: '2026-01-10 10:15:00', // falls back to createTime
      clientDomain: false,
      peerIdent: 'dionaea.dio',
      peerType: 'Network(Dionaea)',
      sourceEntryIp: '2001:db8::1',
      sourceEntryPort: '',
      targetEntryIp: '89.160.20.112',
      targetEntryPort: '445',
      targetport: '',
      country: '-', countryName: '-', sourceEntryAS: '-', location: '0.0 , 0.0',
      targetCountry: '-', targetCountryName: '-', targetEntryAS: '-', locationDestination: '0.0 , 0.0',
      originalRequestString: '', username: '', password: '', login: '', clientVersion: '',
      sessionStart: '', sessionEnd: '', vulnid: '',
      additionalData: '{"protocol":"smb","payload_md5":"abc"}',
      rawhttp: '-', externalIP: '1.1.1.1', internalIP: '1.1.1.1', hostname: 'undefined', client: '-',
    };
    assert.deepEqual(stored!.document, expected);
    assert.equal(stored!.id, documentId(expected));
  });
});

test('times: stored text, ISO with and without zone, date only, epoch millis as number or digits', () => {
  assert.equal(normaliseTime('2026-01-10 10:15:00'), '2026-01-10 10:15:00');
  assert.equal(normaliseTime('2026-01-10T10:15:00Z'), '2026-01-10 10:15:00');
  assert.equal(normaliseTime('2026-01-10T10:15:00.123Z'), '2026-01-10 10:15:00');
  assert.equal(normaliseTime('2026-01-10T10:15:00'), '2026-01-10 10:15:00');
  assert.equal(normaliseTime('2026-01-10T12:15:00+02:00'), '2026-01-10 10:15:00');
  assert.equal(normaliseTime('2026-01-10T05:15:00-0500'), '2026-01-10 10:15:00');
  assert.equal(normaliseTime('2026-01-10'), '2026-01-10 00:00:00');
  assert.equal(normaliseTime(1768040100000), '2026-01-10 10:15:00');
  assert.equal(normaliseTime('1768040100123'), '2026-01-10 10:15:00');
  assert.equal(normaliseTime(undefined), undefined);
  assert.equal(normaliseTime(''), undefined);
  for (const bad of ['2026-02-30 10:00:00', '2026-01-10 24:00:00', 'yesterday', '10.01.2026', -5, true, {}]) {
    assert.equal(normaliseTime(bad), null, JSON.stringify(bad));
  }
  assert.equal(importDocument({ createTime: '2026-01-10T10:15:00Z', recievedTime: '2026-01-10T10:15:09.5Z', clientDomain: true,
    sourceEntryIp: '1.2.3.4', targetEntryIp: '5.6.7.8' }).ok, true);
});

test('import updates the aggregates through the normal write path; re-import changes nothing', async () => {
  await withStore(async (store) => {
    const lines = [
      hit(FULL_ID, FULL),
      JSON.stringify({ ...FULL, peerIdent: 'cowrie-community-02', createTime: '2026-01-09T23:59:59Z', recievedTime: '2026-01-10 10:40:00' }),
      JSON.stringify({ ...FULL, peerIdent: 'honeytrap-1', peerType: 'Network(honeytrap)', recievedTime: '2026-01-10 11:05:00' }),
      JSON.stringify({ ...FULL, peerIdent: 'private-1', clientDomain: false }),
    ];
    const first = await importLines(store, lines, { batchSize: 2 });
    assert.equal(first.imported, 4);
    const hour = { from: parseUtc('2026-01-10 10:00:00'), to: parseUtc('2026-01-10 11:00:00') };
    const days = { from: parseUtc('2026-01-09 00:00:00'), to: parseUtc('2026-01-11 00:00:00') };
    const countHour = () => store.countReceived('community', hour);
    const perDay = () => store.createdPerDayAndType('community', days);
    assert.equal(await countHour(), 2);
    assert.equal(await store.countReceived('private', hour), 1);
    const expectedDays = [
      { day: parseUtc('2026-01-09 00:00:00'), peerType: 'SSH/console(cowrie)', count: 1 },
      { day: parseUtc('2026-01-10 00:00:00'), peerType: 'Network(honeytrap)', count: 1 },
      { day: parseUtc('2026-01-10 00:00:00'), peerType: 'SSH/console(cowrie)', count: 1 },
    ];
    assert.deepEqual(await perDay(), expectedDays);

    const before = await listAll(store);
    const again = await importLines(store, lines, { batchSize: 3 });
    assert.deepEqual([again.imported, again.duplicates, again.skipped], [0, 4, 0]);
    assert.deepEqual(await listAll(store), before);
    assert.equal(await countHour(), 2);
    assert.deepEqual(await perDay(), expectedDays);
    assert.equal((await store.listCveAlerts('CVE-2017-0144')).length, 4);
  });
});

test('export then import into an empty store reproduces the same documents and ids', async () => {
  const lines = [
    hit(FULL_ID, FULL),
    JSON.stringify({ createTime: '2026-01-10T08:00:00+01:00', clientDomain: true, peerIdent: 'glastopf.gt3',
      sourceEntryIp: '2a02:c7f::1', targetEntryIp: '89.160.20.112', originalRequestString: '/index.php?x="1"&y=\u00e4\n' }),
    JSON.stringify({ ...FULL, clientDomain: false, createTime: 1768040000000 }),
  ];
  await withStore(async (source) => {
    await importLines(source, lines);
    const original = await listAll(source);
    const sink = collect();
    assert.equal(await exportAlerts(source, sink.stream), 3);
    const text = sink.text();
    assert.equal(text.split('\n').length, 4);
    assert.ok(text.startsWith(`{"_id":"${FULL_ID}","_source":{"createTime":"2026-01-10 10:15:00",`), text.slice(0, 100));
    await withStore(async (target) => {
      const result = await importAlerts(target, Readable.from([text]));
      assert.deepEqual([result.imported, result.skipped], [3, 0]);
      assert.deepEqual(await listAll(target), original);
    });
  });
});

test('CLI: malformed lines are reported with line numbers and skipped (exit 3); export and stdin import round trip', async () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'alerts.json');
    const good = { createTime: '2026-01-10 10:15:00', clientDomain: true, sourceEntryIp: '81.2.69.142', targetEntryIp: '89.160.20.112' };
    writeFileSync(file, [
      hit(FULL_ID, FULL),
      '{"createTime": "2026-01-10 10:15:00", broken',
      '["an", "array"]',
      JSON.stringify({ ...good, createTime: undefined }),
      JSON.stringify({ ...good, createTime: 'last tuesday' }),
      '',
      JSON.stringify({ ...good, sourceEntryIp: '999.1.1.1' }),
      JSON.stringify({ ...good, targetEntryIp: undefined }),
      JSON.stringify({ _id: 'x', _source: 'text' }),
      JSON.stringify(good),
    ].join('\n') + '\n');
    const env = { PEBA_STORE: `sqlite:${join(dir.path, 'peba.db')}` };
    assert.equal((await runCli(['init'], env)).code, 0);
    const imported = await runCli(['import', file], env);
    assert.equal(imported.code, 3, imported.stderr);
    const reports = imported.stderr.split('\n').filter((l) => l.startsWith('line '));
    assert.equal(reports.length, 7, imported.stderr);
    assert.match(reports[0]!, /^line 2: invalid JSON/);
    assert.equal(reports[1], 'line 3: not a JSON object; skipped');
    assert.equal(reports[2], 'line 4: missing createTime; skipped');
    assert.equal(reports[3], 'line 5: invalid createTime "last tuesday"; skipped');
    assert.equal(reports[4], 'line 7: invalid sourceEntryIp "999.1.1.1"; skipped');
    assert.equal(reports[5], 'line 8: missing targetEntryIp; skipped');
    assert.equal(reports[6], 'line 9: _source is not a JSON object; skipped');
    assert.equal(imported.stdout, 'imported 2, already present 0, skipped 7 (malformed lines)\n');

    const again = await runCli(['import', file], env);
    assert.equal(again.code, 3);
    assert.equal(again.stdout, 'imported 0, already present 2, skipped 7 (malformed lines)\n');

    const exportFile = join(dir.path, 'export.json');
    const exported = await runCli(['export', exportFile], env);
    assert.equal(exported.code, 0, exported.stderr);
    const toStdout = await runCli(['export'], env);
    assert.equal(toStdout.stdout, readFileSync(exportFile, 'utf8'));
    assert.equal(toStdout.stdout.trim().split('\n').length, 2);

    const copy = { PEBA_STORE: `sqlite:${join(dir.path, 'copy.db')}` };
    assert.equal((await runCli(['init'], copy)).code, 0);
    const fromStdin = await runCli(['import', '-'], copy, toStdout.stdout);
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal(fromStdin.stdout, 'imported 2, already present 0, skipped 0 (malformed lines)\n');
    assert.equal(fromStdin.stderr, '', 'no progress line when stderr is not a terminal');
    assert.equal((await runCli(['export'], copy)).stdout, toStdout.stdout);

    const missing = await runCli(['import', join(dir.path, 'nothere.json')], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nothere\.json/);
  } finally {
    dir.remove();
  }
});

test('users and snapshots: lines of USERINDEX/STATISTICINDEX; one already stored is kept; a clear token or bad line is skipped', async () => {
  const indices = { users: 'peba-users', statistics: 'peba-stats' };
  const user = (source: object) => JSON.stringify({ _index: 'peba-users', _type: '_doc', _id: 'x', _score: 1, _source: source });
  const snapshot = (source: object) => JSON.stringify({ _index: 'peba-stats', _id: 'x', _source: source });
  const [community, reader] = USERS as [UserRecord, UserRecord];
  await withStore(async (store) => {
    const kept = { ...reader, tokenHash: createHash('sha512').update('changed since').digest('hex'), email: 'new@example.org' };
    await store.putUser(kept);
    await store.putStatisticsSnapshot(SNAPSHOTS[1]!);
    const reasons: string[] = [];
    const result = await importLines(store, [
      user({ peerName: community.peerName, token: community.tokenHash.toUpperCase(), community: true, getOnly: 'false', email: community.email }),
      user({ peerName: reader.peerName, token: reader.tokenHash, community: false, getOnly: true }),
      user({ peerName: 'clear', token: CLEAR_TOKEN, community: false, getOnly: false, email: '' }),
      user({ peerName: 'flags', token: reader.tokenHash, community: 'yes', getOnly: false }),
      snapshot({ UTCtimeFrom: SNAPSHOTS[0]!.from, UTCtimeTo: SNAPSHOTS[0]!.to, ...SNAPSHOTS[0]!.values, note: 'dropped' }),
      snapshot({ UTCtimeFrom: SNAPSHOTS[1]!.from, UTCtimeTo: SNAPSHOTS[1]!.to, comm_totalRatio: 99 }),
      snapshot({ UTCtimeFrom: 'yesterday', UTCtimeTo: SNAPSHOTS[1]!.to }),
      // An alert hit of the original's daily index next to them.
      hit(FULL_ID, FULL),
    ], { indices, onMalformed: (line, reason) => reasons.push(`${line}: ${reason}`) });
    assert.deepEqual([result.usersImported, result.usersPresent, result.snapshotsImported, result.snapshotsPresent, result.imported, result.skipped],
      [1, 1, 1, 1, 1, 3]);
    assert.deepEqual(reasons, [
      '3: user clear: token is not a sha512 or md5 hex hash',
      '4: user flags: community and getOnly must be booleans',
      '7: statistics snapshot without UTCtimeFrom/UTCtimeTo as YYYY-MM-DD HH:MM:SS',
    ]);
    assert.deepEqual(await store.listUsers(), [community, kept]);
    assert.deepEqual(await store.listStatisticsSnapshots('2026-01-01 00:00:00', '2026-12-31 23:59:59'), [SNAPSHOTS[0], SNAPSHOTS[1]]);
    assert.equal(await store.countAlerts(), 1);
  });
});

test('progress is reported while importing, and at the end', async () => {
  await withStore(async (store) => {
    const seen: number[] = [];
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({
      createTime: 1768040100000 + i * 1000, clientDomain: true, sourceEntryIp: '81.2.69.142', targetEntryIp: '89.160.20.112',
    }));
    const result = await importLines(store, lines, { batchSize: 7, progressIntervalMs: 0, onProgress: (c) => seen.push(c.lines) });
    assert.equal(result.imported, 50);
    assert.equal(seen.at(-1), 50);
    assert.ok(seen.length > 1);
    assert.equal(await store.countAlerts(), 50);
  });
});

test('migration both ways: SQLite export piped into an OpenSearch import and back moves every alert with its id; re-running changes nothing', async () => {
  const dir = tempDir();
  const names = testIndexNames();
  const sqlite = { PEBA_STORE: `sqlite:${join(dir.path, 'peba.db')}` };
  const opensearch = {
    PEBA_STORE: `opensearch+${openSearchUrl()}`, PEBA_ALERTINDEX: names.alertPrefix, PEBA_USERINDEX: names.users,
    PEBA_STATISTICINDEX: names.statistics, PEBA_CVEINDEX: names.cve, PEBA_PAYLOADINDEX: names.payloads, PEBA_LEASEINDEX: names.leases,
    // The export right after the import reads what the import wrote.
    PEBA_OPENSEARCH_REFRESH: 'true',
  };
  try {
    const store = new SqliteStore({ path: join(dir.path, 'peba.db') });
    // Three UTC days of receipt (three daily indices), both domains, an imported id that is no md5.
    const records = Array.from({ length: 300 }, (_, i) => alertRecord({
      ...at(Date.UTC(2026, 10, 25) + i * 877_000), clientDomain: i % 3 !== 0, sourceEntryIp: `81.2.69.${140 + (i % 20)}`,
    }, i === 7 ? 'imported-Id with spaces/and:colons' : undefined));
    await store.storeAlerts(records);
    for (const user of USERS) await store.putUser(user);
    for (const snapshot of SNAPSHOTS) await store.putStatisticsSnapshot(snapshot);
    await store.close();
    // Keyed by index and id: users, snapshots and alerts each with every field.
    const byId = (jsonLines: string): Map<string, unknown> => new Map(jsonLines.trim().split('\n').map((line) => {
      const { _index, _id, _source } = JSON.parse(line) as { _index?: string; _id: string; _source: unknown };
      return [`${_index === undefined ? 'alert' : _index === names.users ? 'user' : 'snapshot'}/${_id}`, _source];
    }));
    const sideLine = 'users: imported 2, already present 0; statistics snapshots: imported 3, already present 0\n';
    const sideAgain = 'users: imported 0, already present 2; statistics snapshots: imported 0, already present 3\n';

    // The same index names on both sides: the SQLite store's config names the OpenSearch indices.
    const fromSqlite = await runCli(['export'], { ...sqlite, PEBA_USERINDEX: names.users, PEBA_STATISTICINDEX: names.statistics });
    assert.equal(fromSqlite.code, 0, fromSqlite.stderr);
    assert.equal(fromSqlite.stderr, 'exported 300 alerts, 2 users, 3 statistics snapshots\n');
    assert.ok(!fromSqlite.stdout.includes(CLEAR_TOKEN), 'never a clear token');
    const intoOpenSearch = await runCli(['import', '-'], opensearch, fromSqlite.stdout);
    assert.equal(intoOpenSearch.code, 0, intoOpenSearch.stderr);
    assert.equal(intoOpenSearch.stdout, `imported 300, already present 0, skipped 0 (malformed lines)\n${sideLine}`);
    const again = await runCli(['import', '-'], opensearch, fromSqlite.stdout);
    assert.equal(again.stdout, `imported 0, already present 300, skipped 0 (malformed lines)\n${sideAgain}`);

    const fromOpenSearch = await runCli(['export'], opensearch);
    assert.equal(fromOpenSearch.code, 0, fromOpenSearch.stderr);
    assert.deepEqual(byId(fromOpenSearch.stdout), byId(fromSqlite.stdout), 'every user, snapshot and alert with its id and every field');
    assert.equal(byId(fromOpenSearch.stdout).size, 305);
    const indices = await (await fetch(`${openSearchUrl()}/_cat/indices/${names.alertPrefix}-*?h=index&format=json`)).json() as Array<{ index: string }>;
    const days = ['25', '26', '27', '28'].map((d) => `${names.alertPrefix}-2026.11.${d}-000001`)
      .filter((name) => records.some((r) => name.includes(r.document.recievedTime.slice(0, 10).replace(/-/g, '.'))));
    // Beside today's and tomorrow's, which the store keeps ready.
    const current = [dailyIndex(names, Date.now()), dailyIndex(names, Date.now() + 86_400_000)];
    assert.deepEqual(indices.map((i) => i.index).sort(), [...new Set([...days, ...current])].sort());

    const back = { PEBA_STORE: `sqlite:${join(dir.path, 'back.db')}`, PEBA_USERINDEX: names.users, PEBA_STATISTICINDEX: names.statistics };
    assert.equal((await runCli(['init'], back)).code, 0);
    const intoSqlite = await runCli(['import', '-'], back, fromOpenSearch.stdout);
    assert.equal(intoSqlite.stdout, `imported 300, already present 0, skipped 0 (malformed lines)\n${sideLine}`, intoSqlite.stderr);
    assert.equal((await runCli(['import', '-'], back, fromOpenSearch.stdout)).stdout,
      `imported 0, already present 300, skipped 0 (malformed lines)\n${sideAgain}`);
    assert.deepEqual(byId((await runCli(['export'], back)).stdout), byId(fromSqlite.stdout));
    const backStore = new SqliteStore({ path: join(dir.path, 'back.db') });
    try {
      assert.deepEqual(await backStore.listUsers(), USERS);
      assert.deepEqual(await backStore.listStatisticsSnapshots('2026-01-01 00:00:00', '2026-12-31 23:59:59'), SNAPSHOTS);
    } finally {
      await backStore.close();
    }
  } finally {
    await removeTestIndices(names);
    dir.remove();
  }
});
