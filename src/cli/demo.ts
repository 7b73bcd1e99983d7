#!/usr/bin/env node
/**
 * `npm run demo`: PEBA on a fresh temporary store, with a generator posting realistic synthetic
 * attacks (a month of history first, then a live rate), and a private user to sign in with.
 * Everything is deleted when it stops (Ctrl-C).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../app';
import { generateToken, sha512Hex } from '../auth/tokens';
import { loadConfig } from '../config';
import { AttackGenerator } from '../demo/attack-generator';

const DAY_MS = 86_400_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rate: { type: 'string', default: '20' }, history: { type: 'string', default: '20000' }, port: { type: 'string' } },
  });
  const rate = Number(values.rate);
  const history = Number(values.history);
  if (!(rate > 0 && rate <= 5000) || !(history >= 0 && history <= 10_000_000)) throw new Error('--rate 1..5000 alerts/s, --history 0..10000000 alerts');
  const dir = mkdtempSync(join(tmpdir(), 'peba-demo-'));
  const config = loadConfig({
    overrides: {
      STORE: `sqlite:${join(dir, 'peba.db')}`,
      SQLITE_SYNCHRONOUS: 'normal',
      ACCESS_LOG: 'off',
      ...(values.port !== undefined && { BINDHOST: `127.0.0.1:${values.port}` }),
    },
  });
  const app = createApp(config);
  const token = generateToken();
  await app.store.putUser({ peerName: 'demo', tokenHash: sha512Hex(token), community: false, getOnly: false, email: '' });
  await app.server.listen({ host: config.BINDHOST.host, port: config.BINDHOST.port });
  const address = app.server.server.address();
  const port = typeof address === 'object' && address ? address.port : config.BINDHOST.port;
  const url = `http://${config.BINDHOST.host === '0.0.0.0' ? '127.0.0.1' : config.BINDHOST.host}:${port}`;

  const generator = new AttackGenerator(Date.now() % 1_000_000);
  const community = { username: config.COMMUNITYUSER, token: config.COMMUNITYTOKEN };
  const user = { username: 'demo', token };
  const post = async (body: string): Promise<void> => {
    const response = await fetch(`${url}/ews-0.1/alert/postSimpleMessage`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
    if (!response.ok) throw new Error(`posting failed: ${response.status} ${await response.text()}`);
  };

  // A month of history, most of it recent, so the charts have something to show.
  const now = Date.now();
  for (let sent = 0; sent < history; sent += 100) {
    const age = Math.floor(Math.pow(Math.random(), 2) * 30 * DAY_MS);
    await post(generator.message(Math.min(100, history - sent), Math.random() < 0.9 ? community : user, now - age));
  }
  console.log(`PEBA demo: ${url}/  (store ${dir}, deleted on exit)`);
  console.log(`operator sign-in: user "demo", token "${token}"`);
  console.log(`posting about ${rate} synthetic attacks per second; Ctrl-C stops`);

  // Live: a message every 200 ms, Poisson-ish sizes around the rate.
  let stopping = false;
  const tick = setInterval(() => {
    const count = Math.max(0, Math.round((rate / 5) * (0.5 + Math.random())));
    if (count > 0 && !stopping) void post(generator.message(count, Math.random() < 0.9 ? community : user)).catch((error: unknown) => console.error(String(error)));
  }, 200);
  const stop = (): void => {
    stopping = true;
    clearInterval(tick);
    app.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
