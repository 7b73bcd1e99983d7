/**
 * parseAddress, ipv4ToNumber, isPublicAddress and isPublicIpv4Text read dotted quads by hand (every alert passes
 * through them); here they must give what the straightforward versions give (net.isIP with
 * split/map/join, Number of split parts, net.BlockList of the special-purpose ranges) on edges
 * and on random and mutated inputs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList, isIP } from 'node:net';
import { ipv4ToNumber, isPublicAddress, isPublicIpv4Text, parseAddress } from '../src/net/address';
import { seededRandom } from './helpers';

function straightV4(raw: string): { text: string; version: 4 } | null {
  const text = raw.trim();
  if (text.length === 0 || text.length > 45 || text.includes('%') || isIP(text) !== 4) return null;
  return { text: text.split('.').map(Number).join('.'), version: 4 };
}

function straightNumber(text: string): number {
  const parts = text.split('.');
  return ((+parts[0]! << 24) | (+parts[1]! << 16) | (+parts[2]! << 8) | +parts[3]!) >>> 0;
}

/** IANA's IPv4 special-purpose ranges that are not globally reachable, and multicast, as net.BlockList. */
const NON_PUBLIC = new BlockList();
for (const [base, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) NON_PUBLIC.addSubnet(base, bits, 'ipv4');

const EDGES = ['0.0.0.0', '255.255.255.255', '1.2.3.4', '01.2.3.4', '1.02.3.4', '1.2.3.04', '0.0.0.00', '00.0.0.0', '256.0.0.0', '1.2.3.256',
  '1.2.3.1000', '1.2.3', '1.2.3.4.', '.1.2.3.4', '1..2.3', '1.2.3.4.5', ' 1.2.3.4 ', '\t10.0.0.1\n', '1.2.3.4\u00a0', '١.٢.٣.٤',
  '+1.2.3.4', '1.2.3.-4', '1e2.1.1.1', '0x1.1.1.1', '1.2.3.4 5', '123.123.123.123', '999.999.999.999', '', '.', '...', '::ffff:1.2.3.4',
  '::1', '2001:db8::1', 'fe80::1%eth0', '1.2.3.4%1', '１.2.3.4'];

describe('dotted quads read by hand: the same answers as the straightforward versions', () => {
  const check = (raw: string): void => {
    const want = straightV4(raw);
    const got = parseAddress(raw);
    if (want) assert.deepEqual(got, want, JSON.stringify(raw));
    // Anything but a dotted quad goes on to net.isIP as before: IPv6 (or mapped IPv4), or nothing.
    else assert.ok(got === null || raw.includes(':'), JSON.stringify(raw));
    if (want) {
      assert.equal(ipv4ToNumber(want.text), straightNumber(want.text), want.text);
      assert.equal(isPublicAddress(want), !NON_PUBLIC.check(want.text, 'ipv4'), want.text);
    }
    assert.equal(ipv4ToNumber(raw), straightNumber(raw), JSON.stringify(raw));
    assert.equal(isPublicIpv4Text(raw), isIP(raw) === 4 ? !NON_PUBLIC.check(raw, 'ipv4') : undefined, JSON.stringify(raw));
  };

  it('on edges', () => {
    for (const raw of EDGES) check(raw);
  });

  it('on random quads, their mutations, and every special-purpose range edge', () => {
    const random = seededRandom(7);
    const alphabet = '0123456789.. x+-:%\n٣';
    let quads = 0;
    for (let i = 0; i < 200_000; i++) {
      const octet = (): string => String(random() < 0.9 ? Math.floor(random() * 256) : Math.floor(random() * 1200));
      let raw = `${octet()}.${octet()}.${octet()}.${octet()}`;
      if (random() < 0.3) {
        const at = Math.floor(random() * (raw.length + 1));
        raw = raw.slice(0, at) + alphabet[Math.floor(random() * alphabet.length)] + raw.slice(at + (random() < 0.5 ? 1 : 0));
      }
      if (straightV4(raw)) quads++;
      check(raw);
    }
    assert.ok(quads > 100_000, `${quads} valid quads`);
    for (const edge of ['9.255.255.255', '10.0.0.0', '10.255.255.255', '11.0.0.0', '100.63.255.255', '100.64.0.0', '100.127.255.255',
      '100.128.0.0', '172.15.255.255', '172.16.0.0', '172.31.255.255', '172.32.0.0', '198.17.255.255', '198.18.0.0', '198.19.255.255',
      '198.20.0.0', '223.255.255.255', '224.0.0.0', '239.255.255.255', '240.0.0.0']) check(edge);
  });
});
