/**
 * The shipped reverse-proxy configuration (deploy/nginx/peba.conf) run by Debian's nginx
 * (`.ci/run` installs it) in front of a PEBA started here: ewsposter-shaped posts (one larger
 * than nginx's default body limit) land, the live stream passes unbuffered, plain HTTP
 * redirects, and PEBA's access log names the real client (127.0.0.2 here; nginx connects from
 * 127.0.0.1) when TRUST_PROXY trusts nginx, nginx's address when it does not, and never an
 * address the client wrote into X-Forwarded-For itself.
 *
 * The site file is used as shipped except for what a test must change: ports, log paths, and
 * TLS (plain HTTP on the TLS server's port; certificates are site-specific).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MessageGenerator } from '../bench/ingest/messages';
import { openEventStream } from './event-stream';
import { OK_REPLY, REPO_ROOT, tempDir } from './helpers';
import { startLogged } from './log-capture';
import { dionaeaMessage, type Sample } from './sample-message';
import { freePort } from './memcached-server';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
const SITE = join(REPO_ROOT, 'deploy/nginx/peba.conf');
const INGEST = '/ews-0.1/alert/postSimpleMessage';
/** The sensor's address: any 127/8 address is loopback on Linux, and differs from nginx's 127.0.0.1. */
const CLIENT = '127.0.0.2';
const PROXY = '127.0.0.1';

/** Replaces `pattern` in `text`, insisting on `count` matches: a changed site file must fail here, not be tested half. */
function replaceExactly(text: string, pattern: RegExp, replacement: string, count: number): string {
  const found = text.match(new RegExp(pattern.source, 'gm'))?.length ?? 0;
  assert.equal(found, count, `deploy/nginx/peba.conf: expected ${count} match(es) of ${pattern}`);
  return text.replace(new RegExp(pattern.source, 'gm'), replacement);
}

interface RunningNginx {
  readonly tlsPort: number;
  readonly plainPort: number;
  stop(): Promise<void>;
}

async function startNginx(dir: string, pebaPort: number): Promise<RunningNginx> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx)');
  const tlsPort = await freePort();
  const plainPort = await freePort();
  let site = readFileSync(SITE, 'utf8');
  site = replaceExactly(site, /^(\s*server )127\.0\.0\.1:9922;/, `$1127.0.0.1:${pebaPort};`, 1);
  site = replaceExactly(site, /^(\s*)listen 443 ssl http2;/, `$1listen ${PROXY}:${tlsPort};`, 1);
  site = replaceExactly(site, /^(\s*)listen 80;/, `$1listen ${PROXY}:${plainPort};`, 1);
  site = replaceExactly(site, /^\s*listen \[::\]:(443 ssl http2|80);\n/, '', 2);
  site = replaceExactly(site, /^\s*ssl_\w+ .*;\n/, '', 5);
  site = replaceExactly(site, /\/var\/log\/nginx\//, `${dir}/`, 3);
  writeFileSync(join(dir, 'site.conf'), site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${dir}/${kind};`).join('\n');
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
${temp}
  include ${dir}/site.conf;
}
`);
  const child: ChildProcess = spawn(NGINX, ['-p', `${dir}/`, '-e', `${dir}/error.log`, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = once(child, 'exit');
  // Ready once it answers on both ports (the redirect server needs no upstream).
  for (const port of [tlsPort, plainPort]) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
      const answered = await send(port, 'GET', '/heartbeat').then(() => true, () => false);
      if (answered) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return {
    tlsPort,
    plainPort,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One request from the sensor's address CLIENT to nginx on `port`. */
function send(port: number, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: PROXY, port, method, path, localAddress: CLIENT, agent: false, headers: { 'content-type': 'text/xml', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const cases = [
  { trust: '127.0.0.1', logged: CLIENT, why: 'TRUST_PROXY names nginx: the client nginx saw' },
  { trust: '1', logged: CLIENT, why: 'TRUST_PROXY=1 (one proxy hop): the client nginx saw' },
  { trust: 'off', logged: PROXY, why: 'TRUST_PROXY=off: nginx itself' },
];

describe('deploy/nginx/peba.conf with Debian\'s nginx in front of PEBA', () => {
  for (const { trust, logged, why } of cases) {
    it(`ewsposter posts land; the access log names ${logged} (${why})`, async () => {
      const running = await startLogged({ TRUST_PROXY: trust });
      const dir = tempDir('peba-nginx-');
      let nginx: RunningNginx | undefined;
      try {
        nginx = await startNginx(dir.path, Number(new URL(running.url).port));
        const stream = await openEventStream(`http://${PROXY}:${nginx.tlsPort}/dashboard/stream`);
        assert.equal(stream.status, 200, 'the live stream passes the proxy');

        const generator = new MessageGenerator({ seed: 13, sensors: 4, sourcePool: 500, hotSources: 20 });
        const messages = [generator.message(0, 100), generator.message(1, 100), generator.message(2, 3000)];
        assert.ok(messages[2]!.length > 1024 * 1024, 'one message is larger than nginx\'s default client_max_body_size');
        for (const [index, body] of messages.entries()) {
          // The last one claims another address: nginx must replace, not pass on, the header.
          const headers: Record<string, string> = index === messages.length - 1 ? { 'x-forwarded-for': '203.0.113.9' } : {};
          const reply = await send(nginx.tlsPort, 'POST', INGEST, body, headers);
          assert.equal(reply.status, 200, reply.text);
          assert.equal(reply.text, OK_REPLY);
        }
        const db = new Database(join(running.dir, 'peba.db'), { readonly: true });
        try {
          assert.equal(db.prepare('SELECT count(*) FROM alerts').pluck().get(), 3200, 'every alert posted through nginx is stored');
        } finally {
          db.close();
        }
        await stream.next((event) => event.event === 'alert');
        stream.close();

        const posts = running.log.lines.filter((line) => line['msg'] === 'request' && line['path'] === INGEST);
        assert.equal(posts.length, messages.length);
        assert.deepEqual(posts.map((line) => line['client']), messages.map(() => logged));

        const redirect = await send(nginx.plainPort, 'POST', INGEST, messages[0]);
        assert.equal(redirect.status, 308, 'plain HTTP redirects, keeping the method');
        assert.equal(redirect.headers['location'], `https://${PROXY}${INGEST}`);
      } finally {
        await nginx?.stop();
        await running.close();
        dir.remove();
      }
    });
  }

  it('a message of large payload samples (30 MB, over the site\'s 20 MB for other requests) passes, streamed', async () => {
    const running = await startLogged({ TRUST_PROXY: '127.0.0.1' });
    const dir = tempDir('peba-nginx-');
    let nginx: RunningNginx | undefined;
    try {
      nginx = await startNginx(dir.path, Number(new URL(running.url).port));
      const samples: Sample[] = [];
      const reply = await new Promise<Reply>((resolve, reject) => {
        const req = request({ host: PROXY, port: nginx!.tlsPort, method: 'POST', path: INGEST, localAddress: CLIENT, agent: false, headers: { 'content-type': 'text/xml' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        Readable.from(dionaeaMessage(3, 10 * 1024 * 1024, samples)).pipe(req);
      });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.text, OK_REPLY);
      const db = new Database(join(running.dir, 'peba.db'), { readonly: true });
      try {
        const stored = db.prepare(`SELECT json_extract("additionalData", '$.largepayload_md5') FROM alerts ORDER BY "createTime"`).pluck().all();
        assert.deepEqual(stored, samples.map((sample) => sample.md5), 'every alert stored with its sample');
      } finally {
        db.close();
      }
    } finally {
      await nginx?.stop();
      await running.close();
      dir.remove();
    }
  });
});
