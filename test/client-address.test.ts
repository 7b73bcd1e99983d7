import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createApp } from '../src/app';
import { ConfigError, loadConfig } from '../src/config';
import { clientAddressOf, trustFunction } from '../src/net/client-address';
import { tempDir, testConfig } from './helpers';

test('TRUST_PROXY: off by default; a hop count; a list of addresses, CIDRs and range names', () => {
  const parse = (value?: string) => loadConfig({ env: value === undefined ? {} : { PEBA_TRUST_PROXY: value }, file: undefined }).TRUST_PROXY;
  assert.equal(parse(), null);
  assert.equal(parse('off'), null);
  assert.equal(parse('0'), null);
  assert.deepEqual(parse('2'), { hops: 2 });
  assert.deepEqual(parse(' 10.0.0.1, 192.168.0.0/16,loopback ,fd00::/8 '), { proxies: ['10.0.0.1', '192.168.0.0/16', 'loopback', 'fd00::/8'] });
  for (const bad of ['on', 'proxy.example', '10.0.0.0/99', '1.2.3', '-1']) {
    assert.throws(() => parse(bad), (error: unknown) => error instanceof ConfigError && error.message.startsWith('TRUST_PROXY: '), bad);
  }
});

/** request.ip as the server sees it, and what the hit lane's function computes for the same raw request. */
async function clientAddresses(trustProxy: string, forwardedFor: string | null): Promise<{ ip: string; lane: string }> {
  const dir = tempDir();
  const app = createApp(testConfig(dir.path, { TRUST_PROXY: trustProxy }));
  const laneAddress = clientAddressOf(trustFunction(app.config.TRUST_PROXY));
  app.server.get('/test/client', async (request) => ({ ip: request.ip, lane: laneAddress(request.raw) }));
  try {
    await app.server.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const response = await fetch(`http://127.0.0.1:${address.port}/test/client`, { headers: forwardedFor === null ? {} : { 'x-forwarded-for': forwardedFor } });
    return (await response.json()) as { ip: string; lane: string };
  } finally {
    await app.close();
    dir.remove();
  }
}

describe('the client address', () => {
  const cases: Array<[string, string | null, string]> = [
    ['off', null, '127.0.0.1'],
    ['off', '203.0.113.9', '127.0.0.1'],
    ['1', '203.0.113.9', '203.0.113.9'],
    ['1', '198.51.100.7, 203.0.113.9', '203.0.113.9'],
    ['2', '198.51.100.7, 203.0.113.9', '198.51.100.7'],
    ['loopback', '198.51.100.7, 203.0.113.9', '203.0.113.9'],
    ['127.0.0.0/8,203.0.113.9', '198.51.100.7, 203.0.113.9', '198.51.100.7'],
    ['10.0.0.1', '203.0.113.9', '127.0.0.1'],
  ];
  for (const [trust, forwardedFor, expected] of cases) {
    test(`TRUST_PROXY=${trust}, X-Forwarded-For: ${forwardedFor ?? '(none)'} -> ${expected}`, async () => {
      const seen = await clientAddresses(trust, forwardedFor);
      assert.equal(seen.ip, expected);
      assert.equal(seen.lane, expected, 'the hit lane computes the same address');
    });
  }
});
