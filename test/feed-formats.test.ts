/**
 * The feed bodies (src/api/format/firewall-feeds.ts) are built by appending to one string for
 * speed; here they are compared byte for byte with the straightforward version (lines mapped to
 * an array and joined) over random answers: both families, CSV fields that need quoting or a
 * formula guard, several classes, empty answers and nft lines split at 1000 elements.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FEED_FORMATS, type FeedFormat, type FeedShape, formatFeed, IPSET_MAXELEM } from '../src/api/format/firewall-feeds';
import type { SourceActivity } from '../src/domain/query';
import { seededRandom } from './helpers';

function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const lines = (rows: string[]): string => (rows.length === 0 ? '' : `${rows.join('\n')}\n`);

/** The straightforward version, as it was before the bodies were built by appending. */
function reference(format: FeedFormat, sources: readonly SourceActivity[], { setName, families }: FeedShape): string {
  const ofFamily = (family: 4 | 6): string[] => sources.filter((s) => s.address.includes(':') === (family === 6)).map((s) => s.address);
  switch (format) {
    case 'txt':
      return lines(sources.map((s) => s.address));
    case 'csv':
      return lines(['address,count,first_seen,last_seen,classes,sensors', ...sources.map((s) =>
        [s.address, String(s.count), s.firstSeen, s.lastSeen, csvField(s.peerTypes.join(';')), String(s.sensors)].join(','))]);
    case 'ipset': {
      const rows: string[] = [];
      for (const family of families) {
        const live = `${setName}${family}`;
        const fresh = `${live}-new`;
        const options = `hash:ip family ${family === 6 ? 'inet6' : 'inet'} hashsize 1024 maxelem ${IPSET_MAXELEM}`;
        rows.push(`create ${live} ${options} -exist`, `create ${fresh} ${options} -exist`, `flush ${fresh}`);
        for (const address of ofFamily(family)) rows.push(`add ${fresh} ${address}`);
        rows.push(`swap ${fresh} ${live}`, `destroy ${fresh}`);
      }
      return lines(rows);
    }
    case 'nft': {
      const rows = ['add table inet peba'];
      for (const family of families) {
        const addresses = ofFamily(family);
        const set = `${setName}${family}`;
        rows.push(`add set inet peba ${set} { type ${family === 6 ? 'ipv6_addr' : 'ipv4_addr'}; }`, `flush set inet peba ${set}`);
        for (let i = 0; i < addresses.length; i += 1000) rows.push(`add element inet peba ${set} { ${addresses.slice(i, i + 1000).join(', ')} }`);
      }
      return lines(rows);
    }
  }
}

const CLASSES = ['SSH/console(cowrie)', 'Android(adbhoney)', 'a,b', 'say "hi"', '=cmd', '-x', '@y', '\tz', 'line\nbreak', 'plain', 'Ünïcode(蜜罐)'];

function answer(size: number, seed: number): SourceActivity[] {
  const next = seededRandom(seed);
  return Array.from({ length: size }, (_, i) => ({
    address: next() < 0.3 ? `2001:db8::${i.toString(16)}` : `198.51.${Math.floor(i / 256) % 256}.${i % 256}`,
    count: 1 + Math.floor(next() * 50),
    firstSeen: '2026-11-30 10:00:00',
    lastSeen: '2026-12-01 06:59:59',
    peerTypes: [...new Set(Array.from({ length: Math.floor(next() * 3) }, () => CLASSES[Math.floor(next() * CLASSES.length)]!))].sort(),
    sensors: Math.floor(next() * 4),
  }));
}

test('every feed format equals the straightforward version byte for byte', () => {
  const shapes: FeedShape[] = [{ setName: 'peba_badips', families: [4, 6] }, { setName: 'x', families: [4] }, { setName: 'y', families: [6] }];
  for (const size of [0, 1, 2, 511, 512, 513, 999, 1000, 1001, 2500]) {
    const sources = answer(size, size + 1);
    for (const format of FEED_FORMATS) {
      for (const shape of shapes) {
        assert.deepEqual(formatFeed(format, sources, shape), Buffer.from(reference(format, sources, shape), 'utf8'), `${format} of ${size} sources, ${JSON.stringify(shape)}`);
      }
    }
  }
});

test('a class field is quoted by its text, also when the same class recurs', () => {
  const one = (peerTypes: string[]): SourceActivity => ({ address: '198.51.100.1', count: 1, firstSeen: 'f', lastSeen: 'l', peerTypes, sensors: 1 });
  const body = formatFeed('csv', [one(['=cmd']), one(['=cmd']), one(['a,b']), one(['a,b', 'plain'])], { setName: 's', families: [4] }).toString('utf8');
  assert.deepEqual(body.split('\n').slice(1, -1).map((line) => line.split(',').slice(4).join(',')),
    ["'=cmd,1", "'=cmd,1", '"a,b",1', '"a,b;plain",1']);
});
