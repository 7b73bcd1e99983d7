/**
 * Start and stop as a supervisor sees it: SIGTERM/SIGINT under a stream of posts answers every
 * request the server began reading with its XML <Result>, commits every acknowledged alert,
 * closes kept-alive connections and exits 0; `npm start` passes the signal on to the server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import Database from 'better-sqlite3';
import { alertXml, ewsMessage, OK_REPLY, REPO_ROOT, startApp, tempDir } from './helpers';
import { CLI, serverEnv, startServerProcess, watchServer } from './server-process';

const INGEST = '/ews-0.1/alert/postSimpleMessage';
const ALERTS_PER_MESSAGE = 5;
/** Bounds a client's stream even if the server never stopped. */
const MAX_MESSAGES_PER_CLIENT = 5000;

function messageFor(analyzer: string): string {
  return ewsMessage(Array.from({ length: ALERTS_PER_MESSAGE }, (_, i) => alertXml({ analyzer, sourcePort: String(40000 + i) })));
}

type Outcome =
  | { readonly kind: 'answer'; readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: string }
  | { readonly kind: 'failed'; readonly code: string; readonly bytes: number };

/** One POST; a failure is reported with the error code and how many response bytes had arrived. */
function post(url: string, body: string, agent: Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    let bytes = 0;
    const req = request(url + INGEST, { method: 'POST', agent, headers: { 'content-type': 'text/xml' } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; bytes += chunk.length; });
      response.on('end', () => resolve({ kind: 'answer', status: response.statusCode ?? 0, headers: response.headers, body: text }));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'failed', code: error.code ?? error.message, bytes }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'failed', code: error.code ?? error.message, bytes }));
    req.end(body);
  });
}

/** A raw connection, to send a request in parts and to see exactly when the server closes it. */
class RawConnection {
  received = '';
  closed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => { this.received += chunk; this.wake(); });
    socket.on('error', () => {});
    socket.on('close', () => { this.closed = true; this.wake(); });
  }

  static async open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    return new RawConnection(socket);
  }

  /** Resolves once the server closed the connection; everything received is in `received`. */
  async end(): Promise<string> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.add(resolve));
    return this.received;
  }

  async until(text: string): Promise<void> {
    while (!this.received.includes(text)) {
      if (this.closed) throw new Error(`closed without ${JSON.stringify(text)}: ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  private wake(): void {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }
}

function storedPerAnalyzer(dbPath: string): Map<string, number> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare(`SELECT "peerIdent" AS peer, count(*) AS n FROM alerts GROUP BY "peerIdent"`).all() as Array<{ peer: string; n: number }>;
    return new Map(rows.map((r) => [r.peer, r.n]));
  } finally {
    db.close();
  }
}

describe('stopping the server process', { timeout: 120_000 }, () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} under a stream of posts: every request read is answered in XML, every acknowledged alert stored, exit 0`, async () => {
      const dir = tempDir('peba-shutdown-');
      const dbPath = join(dir.path, 'peba.db');
      const server = startServerProcess({ PEBA_STORE: `sqlite:${dbPath}`, PEBA_SQLITE_SYNCHRONOUS: 'normal' });
      try {
        const url = await server.listening();
        // Clients that hold kept-alive connections without sending anything must not delay the exit.
        const holders = await Promise.all([1, 2, 3].map(() => RawConnection.open(url)));
        for (const holder of holders) holder.socket.write('GET /heartbeat HTTP/1.1\r\nHost: peba\r\n\r\n');
        for (const holder of holders) await holder.until("I'm alive");
        // A message whose body is still arriving when the signal comes.
        const slowBody = messageFor(`cowrie-stop-${signal}-slow`);
        const slow = await RawConnection.open(url);
        slow.socket.write(`POST ${INGEST} HTTP/1.1\r\nHost: peba\r\nContent-Type: text/xml\r\n` +
          `Content-Length: ${Buffer.byteLength(slowBody)}\r\n\r\n${slowBody.slice(0, 100)}`);

        // Senders: new connection per message (as ewsposter) and kept-alive ones, back to back.
        const acknowledged = new Set<string>();
        const sent = new Set<string>();
        const unanswered = new Set<string>();
        const badAnswers: string[] = [];
        const failures: string[] = [];
        let signalled = false;
        let resolveEnoughAcks: () => void = () => {};
        const enoughAcks = new Promise<void>((resolve) => { resolveEnoughAcks = resolve; });
        const sender = async (name: string, agent: Agent | false): Promise<void> => {
          for (let n = 0; n < MAX_MESSAGES_PER_CLIENT; n++) {
            const analyzer = `cowrie-stop-${signal}-${name}-${n}`;
            sent.add(analyzer);
            const outcome = await post(url, messageFor(analyzer), agent);
            if (outcome.kind === 'failed') {
              unanswered.add(analyzer);
              // Refused (not listening any more) or closed before anything was answered: never a cut answer.
              if (outcome.bytes > 0 || !['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(outcome.code)) failures.push(`${analyzer}: ${outcome.code} after ${outcome.bytes} bytes`);
              if (!signalled) failures.push(`${analyzer}: ${outcome.code} before the signal`);
              return;
            }
            if (outcome.status === 200 && outcome.body === OK_REPLY && outcome.headers['content-type']?.startsWith('text/xml')) {
              acknowledged.add(analyzer);
              if (acknowledged.size === 20) resolveEnoughAcks();
            } else {
              badAnswers.push(`${analyzer}: ${outcome.status} ${outcome.headers['content-type']} ${outcome.body.slice(0, 200)}`);
            }
          }
        };
        const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
        const keepAlive2 = new Agent({ keepAlive: true, maxSockets: 1 });
        const senders = Promise.all([
          sender('fresh1', false), sender('fresh2', false), sender('fresh3', false),
          sender('kept1', keepAlive), sender('kept2', keepAlive2),
        ]);

        await enoughAcks;
        signalled = true;
        server.child.kill(signal);
        await server.logged((e) => (e.msg ?? '').startsWith(`${signal}: no new connections`));
        slow.socket.write(slowBody.slice(100));
        await senders;
        keepAlive.destroy();
        keepAlive2.destroy();

        const slowAnswer = await slow.end();
        assert.match(slowAnswer, /^HTTP\/1\.1 200 OK\r\n/, 'the message being read when the signal came is answered');
        assert.match(slowAnswer, /\r\nconnection: close\r\n/i, 'and its connection closed after the answer');
        assert.ok(slowAnswer.endsWith(OK_REPLY), slowAnswer);
        for (const holder of holders) await holder.end(); // idle kept-alive connections are closed by the server

        const { code, signal: killedBy } = await server.exited;
        assert.deepEqual({ code, killedBy }, { code: 0, killedBy: null }, server.output());
        assert.match(server.output(), /"msg":"stopped"/);

        assert.deepEqual(badAnswers, [], 'every answer is the XML OK (never a JSON 503)');
        assert.deepEqual(failures, [], 'a client sees an answer, or a connection refused or closed before it was read');
        const stored = storedPerAnalyzer(dbPath);
        const lost = [...acknowledged].filter((a) => stored.get(a) !== ALERTS_PER_MESSAGE);
        assert.deepEqual(lost, [], 'every acknowledged message is stored whole');
        assert.equal(stored.get(`cowrie-stop-${signal}-slow`), ALERTS_PER_MESSAGE);
        // A message that was read is answered: one without an answer must not have been stored.
        const storedUnanswered = [...unanswered].filter((a) => stored.has(a));
        assert.deepEqual(storedUnanswered, [], 'no message was stored without its sender getting the answer');
        const unknown = [...stored.keys()].filter((a) => !sent.has(a) && a !== `cowrie-stop-${signal}-slow`);
        assert.deepEqual(unknown, []);
      } finally {
        server.child.kill('SIGKILL');
        dir.remove();
      }
    });
  }

  it('SIGTERM while the server starts listening: it finishes starting, then stops cleanly (exit 0), not killed by the signal', async () => {
    const dir = tempDir('peba-early-signal-');
    const server = watchServer(spawn(process.execPath, ['--require', join(REPO_ROOT, 'dist/test/signal-before-listening.js'), CLI, 'start'], {
      env: serverEnv({ PEBA_STORE: `sqlite:${join(dir.path, 'peba.db')}` }), stdio: ['ignore', 'pipe', 'pipe'],
    }));
    try {
      // Without a handler installed before listening, the default action would end it here: exit by signal, no log line.
      assert.deepEqual(await server.exited, { code: 0, signal: null }, server.output());
      await server.listening();
      await server.logged((e) => e.msg === 'stopped');
    } finally {
      server.child.kill('SIGKILL');
      dir.remove();
    }
  });

  it('`npm start` passes SIGTERM on: killing npm stops the server instead of orphaning it', async () => {
    const dir = tempDir('peba-npm-start-');
    // npm writes its own banner lines to standard output before PEBA's JSON log.
    const npm = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['start', '--silent'], {
      cwd: REPO_ROOT,
      env: serverEnv({ PEBA_STORE: `sqlite:${join(dir.path, 'peba.db')}` }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = watchServer(npm);
    try {
      const url = await server.listening();
      const pid = Number((await server.logged((e) => typeof e.pid === 'number')).pid);
      assert.notEqual(pid, npm.pid, 'the server is npm\'s child');
      npm.kill('SIGTERM');
      await server.logged((e) => e.msg === 'stopped');
      // The server's end of the shared output pipe closes only when the server process is gone:
      // an orphaned server would keep it open and this would never resolve.
      await new Promise<void>((resolve) => npm.stdout!.once('close', () => resolve()));
      const refused = connect(Number(new URL(url).port), '127.0.0.1');
      const [error] = await once(refused, 'error') as [NodeJS.ErrnoException];
      assert.equal(error.code, 'ECONNREFUSED');
    } finally {
      npm.kill('SIGKILL');
      dir.remove();
    }
  });
});

describe('closing the app in-process', () => {
  it('a request on a kept-alive connection while closing gets its real answer with Connection: close, not a JSON 503', async () => {
    const running = await startApp();
    try {
      const kept = await RawConnection.open(running.url);
      kept.socket.write('GET /heartbeat HTTP/1.1\r\nHost: peba\r\n\r\n');
      await kept.until("I'm alive");
      const posting = await RawConnection.open(running.url);
      const body = messageFor('cowrie-inprocess-close');
      posting.socket.write(`POST ${INGEST} HTTP/1.1\r\nHost: peba\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 50)}`);

      // The idle sweep is the only interval timer in play: it runs only when this test ticks.
      mock.timers.enable({ apis: ['setInterval'] });
      const closed = running.app.close();
      const httpServer = running.app.server.server;
      while (httpServer.listening) await new Promise((resolve) => setImmediate(resolve));

      kept.received = '';
      kept.socket.write('GET /heartbeat HTTP/1.1\r\nHost: peba\r\n\r\n');
      posting.socket.write(body.slice(50));
      const heartbeat = await kept.end();
      assert.match(heartbeat, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(heartbeat, /\r\nconnection: close\r\n/i);
      assert.ok(heartbeat.endsWith("I'm alive"), heartbeat);
      const posted = await posting.end();
      assert.match(posted, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(posted, /\r\nconnection: close\r\n/i);
      assert.ok(posted.endsWith(OK_REPLY), posted);
      await closed;
      const stored = storedPerAnalyzer(join(running.dir, 'peba.db'));
      assert.equal(stored.get('cowrie-inprocess-close'), ALERTS_PER_MESSAGE, 'committed before the store closed');
    } finally {
      mock.timers.reset();
      await running.close();
    }
  });
});
