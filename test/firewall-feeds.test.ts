/**
 * Firewall feeds: every shape against a naive reading of the stored alerts (with the exclude
 * list and non-public addresses left out), ETag revalidation, authentication and bad parameters.
 * The clock is frozen (mock.timers), so window edges are exact.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import type { AlertRecord } from '../src/domain/alert';

import { COMMUNITY, addPrivateUser, alertRecord, at, seededRandom, startApp, tempDir, type RunningApp } from './helpers';

const NOW = Date.parse('2026-11-30T12:00:00.250Z');
const MINUTE = 60_000;
const CLASSES = ['SSH/console(cowrie)', 'Network(honeytrap)', 'Webpage', 'Network(Dionaea)'];
/** Public sources, two excluded by the list, one private (never listed). */
const SOURCES = ['81.2.69.142', '81.2.69.160', '81.2.69.161', '89.160.20.112', '2a02:ec0::1', '2a02:ec0::2', '2a03:b0c0::5', '192.168.1.7', '175.16.199.1'];
const EXCLUDE = '# own networks\n81.2.69.160/31\n\n2a03:b0c0::/32  # a research scanner\n';

const basic = (username: string, token: string): string => `Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`;

describe('firewall feeds', () => {
  let peba: RunningApp;
  let auth: string;
  const records: AlertRecord[] = [];
  const listDir = tempDir();
  const random = seededRandom(1301);

  before(async () => {
    mock.timers.enable({ apis: ['Date'], now: NOW });
    writeFileSync(join(listDir.path, 'exclude.txt'), EXCLUDE);
    peba = await startApp({ FEED_EXCLUDE_FILE: join(listDir.path, 'exclude.txt') });
    const user = await addPrivateUser(peba, 'feed-user', 'Feed-T0ken:with-colon');
    auth = basic(user.username, user.token);
    // Eight days of alerts, denser in the last hours; times on whole seconds.
    for (let i = 0; i < 1500; i++) {
      const ageMs = Math.floor((i % 3 === 0 ? random() * 8 * 24 * 60 : random() * 180) * 60) * 1000;
      records.push(alertRecord({
        ...at(Math.floor(NOW / 1000) * 1000 - ageMs),
        clientDomain: random() < 0.6,
        peerType: CLASSES[Math.floor(random() * CLASSES.length)]!,
        peerIdent: `sensor-${Math.floor(random() * 5)}`,
        sourceEntryIp: SOURCES[Math.floor(random() * SOURCES.length)]!,
      }));
    }
    await peba.app.store.storeAlerts(records);
  });
  after(async () => {
    await peba.close();
    listDir.remove();
    mock.timers.reset();
  });

  const get = async (path: string, headers: Record<string, string> = { authorization: auth }) => {
    const response = await fetch(`${peba.url}${path}`, { headers });
    return { status: response.status, body: await response.text(), headers: response.headers };
  };

  interface Wanted { minutes: number; scope: 'community' | 'private' | 'both'; minCount: number; minSensors: number; classes: string[]; family?: 4 | 6 }

  /** The naive reading: filter the records, group by source, drop excluded and private addresses. */
  function naive(w: Wanted): Array<{ address: string; count: number; first: string; last: string; classes: string; sensors: number }> {
    const from = Math.floor(NOW / 1000) * 1000 - w.minutes * MINUTE;
    const groups = new Map<string, AlertRecord[]>();
    for (const r of records) {
      const d = r.document;
      const t = Date.parse(`${d.recievedTime.replace(' ', 'T')}Z`);
      if (t < from || t > NOW) continue;
      if (w.scope !== 'both' && d.clientDomain !== (w.scope === 'community')) continue;
      if (w.classes.length > 0 && !w.classes.includes(d.peerType)) continue;
      if (w.family !== undefined && d.sourceEntryIp.includes(':') !== (w.family === 6)) continue;
      if (['81.2.69.160', '81.2.69.161', '2a03:b0c0::5', '192.168.1.7'].includes(d.sourceEntryIp)) continue;
      groups.set(d.sourceEntryIp, [...(groups.get(d.sourceEntryIp) ?? []), r]);
    }
    return [...groups].map(([address, rs]) => {
      const times = rs.map((r) => r.document.recievedTime).sort();
      return {
        address, count: rs.length, first: times[0]!, last: times[times.length - 1]!,
        classes: [...new Set(rs.map((r) => r.document.peerType))].sort().join(';'),
        sensors: new Set(rs.map((r) => r.document.peerIdent)).size,
      };
    }).filter((s) => s.count >= w.minCount && s.sensors >= w.minSensors)
      .sort((a, b) => b.count - a.count || (a.address < b.address ? -1 : 1));
  }

  function url(format: string, w: Wanted): string {
    const ci = { community: '', private: '&ci=0', both: '&ci=-1' }[w.scope];
    const classes = w.classes.map((c) => `&class=${encodeURIComponent(c)}`).join('');
    return `/feed/badips.${format}?minutes=${w.minutes}&min_count=${w.minCount}&min_sensors=${w.minSensors}${ci}${classes}${w.family ? `&family=${w.family}` : ''}`;
  }

  test('text and CSV equal a naive count for random conditions', async () => {
    let listed = 0;
    for (let i = 0; i < 30; i++) {
      const w: Wanted = {
        minutes: [15, 60, 120, 24 * 60, 7 * 24 * 60][i % 5]!,
        scope: (['community', 'private', 'both'] as const)[i % 3]!,
        minCount: 1 + Math.floor(random() * 30),
        minSensors: 1 + Math.floor(random() * 5),
        classes: i % 2 === 0 ? [] : CLASSES.filter(() => random() < 0.5),
        ...(i % 4 === 1 ? { family: 4 as const } : i % 4 === 3 ? { family: 6 as const } : {}),
      };
      const expected = naive(w);
      listed += expected.length;
      const text = await get(url('txt', w));
      assert.equal(text.status, 200, text.body);
      assert.equal(text.body, expected.map((s) => `${s.address}\n`).join(''), url('txt', w));
      const csv = await get(url('csv', w));
      assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
      assert.equal(csv.body, ['address,count,first_seen,last_seen,classes,sensors', ...expected.map((s) =>
        `${s.address},${s.count},${s.first},${s.last},${s.classes},${s.sensors}`)].map((l) => `${l}\n`).join(''));
    }
    assert.ok(listed > 50, `${listed} sources listed: the comparison must not be of empty lists`);
  });

  test('ipset and nftables shapes replace whole sets', async () => {
    const w: Wanted = { minutes: 7 * 24 * 60, scope: 'both', minCount: 1, minSensors: 1, classes: [] };
    const expected = naive(w);
    const v4 = expected.filter((s) => !s.address.includes(':')).map((s) => s.address);
    const v6 = expected.filter((s) => s.address.includes(':')).map((s) => s.address);
    assert.ok(v4.length > 0 && v6.length > 0);
    const ipset = await get(`${url('ipset', w)}&name=blocklist`);
    const setLines = (family: 4 | 6, addresses: string[]): string[] => {
      const options = `hash:ip family ${family === 4 ? 'inet' : 'inet6'} hashsize 1024 maxelem 1048576`;
      return [`create blocklist${family} ${options} -exist`, `create blocklist${family}-new ${options} -exist`, `flush blocklist${family}-new`,
        ...addresses.map((a) => `add blocklist${family}-new ${a}`), `swap blocklist${family}-new blocklist${family}`, `destroy blocklist${family}-new`];
    };
    assert.equal(ipset.body, [...setLines(4, v4), ...setLines(6, v6)].map((l) => `${l}\n`).join(''));
    const nft = await get(`${url('nft', { ...w, family: 6 })}`);
    assert.equal(nft.body, ['add table inet peba', 'add set inet peba peba_badips6 { type ipv6_addr; }', 'flush set inet peba peba_badips6',
      `add element inet peba peba_badips6 { ${v6.join(', ')} }`].map((l) => `${l}\n`).join(''));
  });

  test('ETag: an unchanged feed answers 304 without a body; a new alert changes it', async () => {
    const first = await get('/feed/badips.txt?minutes=15');
    const tag = first.headers.get('etag');
    assert.match(tag ?? '', /^"[A-Za-z0-9_-]{32}"$/);
    assert.equal(first.headers.get('cache-control'), 'private, no-cache');
    const again = await get('/feed/badips.txt?minutes=15', { authorization: auth, 'if-none-match': `"other", W/${tag}` });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal(again.headers.get('etag'), tag);
    const extra = alertRecord({ ...at(NOW - 1000), sourceEntryIp: '175.16.199.99' });
    await peba.app.store.storeAlerts([extra]);
    records.push(extra);
    const changed = await get('/feed/badips.txt?minutes=15', { authorization: auth, 'if-none-match': tag! });
    assert.equal(changed.status, 200);
    assert.ok(changed.body.includes('175.16.199.99\n'));
    assert.notEqual(changed.headers.get('etag'), tag);
  });

  test('only users of the store: 401 with a Basic challenge otherwise, nothing disclosed', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: basic(COMMUNITY.username, COMMUNITY.token) }, { authorization: basic('feed-user', 'wrong') },
      { authorization: 'Basic !!!' }, { authorization: 'Bearer x' }]) {
      const reply = await get('/feed/badips.csv', headers);
      assert.equal(reply.status, 401);
      assert.match(reply.headers.get('www-authenticate') ?? '', /^Basic realm="peba feeds"/);
      assert.equal(reply.body, 'Authentication failed');
    }
  });

  test('bad parameters: 400 naming the parameter; the server still answers', async () => {
    for (const [query, message] of [
      ['minutes=14', /^minutes: expected a whole number in 15\.\.10080$/], ['minutes=10081', /^minutes:/], ['minutes=1e3', /^minutes:/],
      ['min_count=0', /^min_count:/], ['min_sensors=-1', /^min_sensors:/], ['class=Nope', /^class: unknown honeypot class "Nope"$/],
      ['family=5', /^family: expected 4 or 6$/], ['name=bad-name', /^name:/], ['name=a%0Aflush', /^name:/],
    ] as const) {
      const reply = await get(`/feed/badips.ipset?${query}`);
      assert.equal(reply.status, 400, query);
      assert.match(reply.body, message);
    }
    assert.equal((await get('/feed/badips.txt')).status, 200);
  });

  test('the exclude list is read again when it changes', async () => {
    const w: Wanted = { minutes: 7 * 24 * 60, scope: 'both', minCount: 1, minSensors: 1, classes: [] };
    assert.ok((await get(url('txt', w))).body.includes('81.2.69.142\n'));
    writeFileSync(join(listDir.path, 'exclude.txt'), `${EXCLUDE}81.2.69.142\n`);
    // The mtime must differ from the first write's even on a coarse file system clock.
    const { utimesSync } = await import('node:fs');
    utimesSync(join(listDir.path, 'exclude.txt'), new Date(NOW + 5000), new Date(NOW + 5000));
    assert.ok(!(await get(url('txt', w))).body.includes('81.2.69.142\n'));
    writeFileSync(join(listDir.path, 'exclude.txt'), EXCLUDE);
    utimesSync(join(listDir.path, 'exclude.txt'), new Date(NOW + 10_000), new Date(NOW + 10_000));
    assert.ok((await get(url('txt', w))).body.includes('81.2.69.142\n'));
  });
});

describe('firewall feed exclude list at start-up', () => {
  test('a bad line stops start-up with the file, line and key named', async () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, 'bad.txt'), '10.0.0.0/8\n300.1.2.3\n');
      await assert.rejects(startApp({ FEED_EXCLUDE_FILE: join(dir.path, 'bad.txt') }), /FEED_EXCLUDE_FILE: .*bad\.txt:2: expected an address or CIDR, got "300\.1\.2\.3"/);
    } finally {
      dir.remove();
    }
  });
});

