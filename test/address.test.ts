import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicAddress, isPublicIpv4Text, parseAddress, type IpAddress } from '../src/net/address';
import { seededRandom } from './helpers';

function parsed(raw: string): IpAddress {
  const address = parseAddress(raw);
  assert.ok(address, `${raw} should parse`);
  return address;
}

describe('parseAddress', () => {
  it('accepts IPv4 as is', () => {
    assert.deepEqual(parseAddress('81.2.69.142'), { text: '81.2.69.142', version: 4 });
    assert.deepEqual(parseAddress('0.0.0.0'), { text: '0.0.0.0', version: 4 });
    assert.deepEqual(parseAddress('255.255.255.255'), { text: '255.255.255.255', version: 4 });
  });

  it('trims surrounding whitespace', () => {
    assert.deepEqual(parseAddress(' 1.2.3.4\n'), { text: '1.2.3.4', version: 4 });
  });

  it('rejects IPv4 with leading zeros (ambiguous octal)', () => {
    assert.equal(parseAddress('01.2.3.4'), null);
    assert.equal(parseAddress('1.2.3.04'), null);
    assert.equal(parseAddress('010.0.0.1'), null);
  });

  it('rejects out-of-range and malformed input', () => {
    for (const raw of ['256.1.1.1', '1.2.3.256', '1.2.3', '1.2.3.4.5', '1.2.3.-4', 'asasasas', '', '   ',
      '1:2:3:4:5:6:7:8:9', ':::', '12345::', 'g::1', '1.2.3.4/24', 'localhost']) {
      assert.equal(parseAddress(raw), null, JSON.stringify(raw));
    }
  });

  it('rejects zone ids', () => {
    assert.equal(parseAddress('fe80::1%eth0'), null);
    assert.equal(parseAddress('fe80::1%1'), null);
  });

  it('canonicalises IPv6 per RFC 5952', () => {
    const cases: Array<[string, string]> = [
      ['2001:DB8:0:0::1', '2001:db8::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['::', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1::', '1::'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['1:0:0:1:0:0:1:1', '1::1:0:0:1:1'], // tie: the first run is compressed
      ['1:0:0:1:0:0:0:1', '1:0:0:1::1'], // the longest run wins
      ['FE80::ABCD', 'fe80::abcd'],
    ];
    for (const [raw, text] of cases) assert.deepEqual(parseAddress(raw), { text, version: 6 }, raw);
  });

  it('an IPv4-mapped IPv6 address is the IPv4 address it carries', () => {
    assert.deepEqual(parseAddress('::ffff:1.2.3.4'), { text: '1.2.3.4', version: 4 });
    assert.deepEqual(parseAddress('::FFFF:192.168.1.1'), { text: '192.168.1.1', version: 4 });
    assert.deepEqual(parseAddress('::ffff:c0a8:101'), { text: '192.168.1.1', version: 4 });
    assert.deepEqual(parseAddress('0:0:0:0:0:ffff:5102:4590'), { text: '81.2.69.144', version: 4 });
    // Not mapped: IPv4-compatible (deprecated) and NAT64 addresses stay IPv6.
    assert.deepEqual(parseAddress('::1.2.3.4'), { text: '::102:304', version: 6 });
    assert.deepEqual(parseAddress('64:ff9b::1.2.3.4'), { text: '64:ff9b::102:304', version: 6 });
    assert.equal(parseAddress('::ffff:1.2.3.256'), null);
    assert.equal(parseAddress('::ffff:01.2.3.4'), null);
  });
});

describe('isPublicAddress', () => {
  it('rejects every IPv4 special-purpose range, at both ends', () => {
    for (const raw of [
      '0.0.0.0', '0.255.255.255', '10.0.0.1', '10.255.255.255', '100.64.0.0', '100.127.255.255',
      '127.0.0.1', '127.255.255.255', '169.254.0.1', '169.254.255.255', '172.16.0.0', '172.31.255.255',
      '192.0.0.1', '192.0.2.1', '192.88.99.1', '192.168.0.0', '192.168.1.1', '192.168.255.255',
      '198.18.0.0', '198.19.255.255', '198.51.100.7', '203.0.113.9', '224.0.0.1', '239.255.255.255',
      '240.0.0.1', '255.255.255.255',
    ]) {
      assert.equal(isPublicAddress(parsed(raw)), false, raw);
    }
  });

  it('accepts public IPv4, including just outside the special ranges', () => {
    for (const raw of [
      '1.0.0.1', '8.8.8.8', '81.2.69.142', '9.255.255.255', '11.0.0.0', '100.63.255.255', '100.128.0.0',
      '126.255.255.255', '128.0.0.0', '169.253.255.255', '172.15.255.255', '172.32.0.0', '192.0.1.0',
      '192.167.255.255', '192.169.0.0', '198.17.255.255', '198.20.0.0', '203.0.112.255', '223.255.255.255',
    ]) {
      assert.equal(isPublicAddress(parsed(raw)), true, raw);
    }
  });

  it('rejects IPv6 special-purpose ranges', () => {
    for (const raw of [
      '::', '::1', 'fe80::1', 'febf:ffff::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '2001:db8::1',
      '2001::1', '2001:1ff:ffff::1', '100::1', '64:ff9b:1::1',
    ]) {
      assert.equal(isPublicAddress(parsed(raw)), false, raw);
    }
  });

  it('accepts public IPv6', () => {
    for (const raw of ['2001:4860:4860::8888', '2001:200::1', '2a02:c7f::1', '2606:4700::1111']) {
      assert.equal(isPublicAddress(parsed(raw)), true, raw);
    }
  });

  it('judges IPv4-mapped IPv6 by the IPv4 address it carries', () => {
    assert.equal(isPublicAddress(parsed('::ffff:10.0.0.1')), false);
    assert.equal(isPublicAddress(parsed('::ffff:192.168.1.1')), false);
    assert.equal(isPublicAddress(parsed('::ffff:127.0.0.1')), false);
    assert.equal(isPublicAddress(parsed('::ffff:8.8.8.8')), true);
    // As stored before mapped addresses were unmapped at ingest.
    assert.equal(isPublicAddress({ text: '::ffff:10.0.0.1', version: 6 }), false);
    assert.equal(isPublicAddress({ text: '::ffff:8.8.8.8', version: 6 }), true);
  });
});

describe('isPublicIpv4Text', () => {
  it('agrees with parseAddress + isPublicAddress on canonical dotted quads and declines everything else', () => {
    const random = seededRandom(11);
    const next = (n: number): number => Math.floor(random() * n);
    const samples = [
      '1.2.3.4', '0.0.0.0', '10.1.2.3', '100.64.0.1', '100.128.0.1', '127.0.0.1', '169.254.1.1', '172.16.0.1', '172.32.0.1',
      '192.0.2.1', '192.88.99.1', '192.168.1.1', '198.18.0.1', '198.20.0.1', '198.51.100.7', '203.0.113.9', '224.0.0.1',
      '239.255.255.255', '240.0.0.1', '255.255.255.255', '81.2.69.142',
      // Not canonical dotted quads: left to the full parser.
      '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '.1.2.3', '1.2.3.', ' 1.2.3.4', '1.2.3.4 ', '::1', '2a02:d180::1', '', 'x', '1.2.3.1000',
    ];
    for (let i = 0; i < 3000; i++) samples.push([next(256), next(256), next(256), next(256)].join('.'));
    for (const text of samples) {
      const fast = isPublicIpv4Text(text);
      const address = parseAddress(text);
      const canonicalIpv4 = address?.version === 4 && address.text === text;
      if (canonicalIpv4) assert.equal(fast, isPublicAddress(address), text);
      else assert.equal(fast, undefined, text);
    }
  });
});
