/**
 * Durability: a `kill -9` of the server at any moment while senders stream alerts loses no
 * alert that was acknowledged with `<StatusCode>OK</StatusCode>`, never leaves half a message
 * stored, and leaves a database that a restarted server opens and writes to.
 *
 * The real server runs as a child process (the compiled CLI); four clients stream messages of
 * 50 unique alerts, each message with its own analyzer id so that its rows can be counted; the
 * child is SIGKILLed at a random moment (seeded; set PEBA_DURABILITY_SEED to replay a run).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { alertXml, ewsMessage, GEOIP_FIXTURES, REPO_ROOT, seededRandom, tempDir } from './helpers';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const INGEST = '/ews-0.1/alert/postSimpleMessage';
const CLIENTS = 4;
const ALERTS_PER_MESSAGE = 50;
/** Upper bound on messages one client sends in a round, so a round is bounded even if the kill misfires. */
const MAX_MESSAGES_PER_CLIENT = 2000;
const REQUEST_TIMEOUT_MS = 5000;
const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 5000;
/** Kill anyway when no message has been acknowledged this long into the stream. */
const NO_ACK_KILL_MS = 10_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A server child process, its captured output (the tail of it) and a promise of its exit. */
interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  hasExited(): boolean;
}

function startServer(dbPath: string, port: number, synchronous: 'full' | 'normal'): ServerProcess {
  // Only the variables this test sets may configure the child: drop any PEBA_* of the caller.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PEBA_')) env[key] = value;
  Object.assign(env, {
    PEBA_STORE: `sqlite:${dbPath}`,
    PEBA_BINDHOST: `127.0.0.1:${port}`,
    PEBA_LOG_LEVEL: 'warn',
    PEBA_GEOIP_CITY: join(GEOIP_FIXTURES, 'GeoLite2-City-Test.mmdb'),
    PEBA_GEOIP_ASN: join(GEOIP_FIXTURES, 'GeoLite2-ASN-Test.mmdb'),
    PEBA_SQLITE_SYNCHRONOUS: synchronous,
  });
  const child = spawn(process.execPath, [CLI, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exitPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    exited: exitPromise,
    output: () => output,
    hasExited: () => exited,
  };
}

/** Resolves once the server answers HTTP (a GET on the ingest path gives 405). */
async function waitUntilServing(server: ServerProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.hasExited()) throw new Error(`server exited before serving:\n${server.output()}`);
    try {
      const response = await fetch(server.url + INGEST, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 405) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`server did not answer within ${READY_TIMEOUT_MS} ms:\n${server.output()}`);
}

/** Kills the child (if still running) and waits, bounded, for it to be gone. */
async function stopServer(server: ServerProcess, signal: NodeJS.Signals): Promise<void> {
  if (!server.hasExited()) server.child.kill(signal);
  const result = await Promise.race([server.exited, sleep(EXIT_TIMEOUT_MS).then(() => null)]);
  if (result === null) {
    server.child.kill('SIGKILL');
    await Promise.race([server.exited, sleep(EXIT_TIMEOUT_MS)]);
  }
}

function messageFor(analyzer: string): string {
  const alerts: string[] = [];
  for (let i = 0; i < ALERTS_PER_MESSAGE; i++) {
    const minute = String(Math.floor(i / 60)).padStart(2, '0');
    const second = String(i % 60).padStart(2, '0');
    alerts.push(alertXml({
      analyzer,
      createTime: `2026-11-27 10:${minute}:${second}`,
      sourcePort: String(40000 + i),
      requests: { description: 'SSH Honeypot Cowrie' },
      additional: { username: 'root', password: `pw${i}`, input: `echo%20${i}` },
    }));
  }
  return ewsMessage(alerts);
}

interface StreamOutcome {
  /** Analyzer ids of messages answered 200 with `<StatusCode>OK</StatusCode>`. */
  readonly acknowledged: Set<string>;
  /** Every analyzer id a client tried to send. */
  readonly sent: Set<string>;
  /** Replies other than 200 OK (there should be none: the server was healthy until killed). */
  readonly badReplies: string[];
}

/**
 * Streams messages from CLIENTS concurrent clients until each one's connection fails.
 * `onFirstAck` runs when the first message is acknowledged.
 */
async function stream(url: string, round: string, onFirstAck: () => void): Promise<StreamOutcome> {
  const acknowledged = new Set<string>();
  const sent = new Set<string>();
  const badReplies: string[] = [];
  let next = 0;
  const client = async (): Promise<void> => {
    for (let n = 0; n < MAX_MESSAGES_PER_CLIENT; n++) {
      const analyzer = `cowrie-dur-${round}-${next++}`;
      sent.add(analyzer);
      let status: number;
      let text: string;
      try {
        const response = await fetch(url + INGEST, {
          method: 'POST',
          body: messageFor(analyzer),
          headers: { 'content-type': 'text/xml' },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        status = response.status;
        text = await response.text();
      } catch {
        return; // connection refused or reset: the server is gone, this message is not acknowledged
      }
      if (status === 200 && text.includes('<StatusCode>OK</StatusCode>')) {
        acknowledged.add(analyzer);
        if (acknowledged.size === 1) onFirstAck();
      }
      else badReplies.push(`${analyzer}: ${status} ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { acknowledged, sent, badReplies };
}

/** Rows per analyzer id, as a fresh connection (which recovers the WAL) sees them. */
function inspect(dbPath: string): { perMessage: Map<string, number>; integrity: string } {
  const db = new Database(dbPath);
  try {
    const rows = db.prepare(`SELECT "peerIdent" AS peer, count(*) AS n FROM alerts GROUP BY "peerIdent"`).all() as Array<{ peer: string; n: number }>;
    const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
    return { perMessage: new Map(rows.map((r) => [r.peer, r.n])), integrity };
  } finally {
    db.close();
  }
}

async function killRound(round: string, synchronous: 'full' | 'normal', seed: number): Promise<void> {
  const random = seededRandom(seed);
  const killAfterMs = 300 + Math.floor(random() * 1200);
  console.log(`durability round ${round}: synchronous=${synchronous} seed=${seed} kill ${killAfterMs} ms after the first acknowledgement`);
  const dir = tempDir('peba-durability-');
  const dbPath = join(dir.path, 'peba.db');
  const servers: ServerProcess[] = [];
  let killTimer: NodeJS.Timeout | undefined;
  try {
    const server = startServer(dbPath, await freePort(), synchronous);
    servers.push(server);
    await waitUntilServing(server);

    // The kill delay counts from the first acknowledgement, so that every round has some (a slow
    // machine may take a while over its first message); if none comes, kill anyway after a while.
    let killedAt = 0;
    const kill = (): void => {
      killedAt = Date.now();
      server.child.kill('SIGKILL');
    };
    killTimer = setTimeout(kill, NO_ACK_KILL_MS);
    const started = Date.now();
    const outcome = await stream(server.url, round, () => {
      clearTimeout(killTimer);
      killTimer = setTimeout(kill, killAfterMs);
    });
    const exit = await Promise.race([server.exited, sleep(EXIT_TIMEOUT_MS).then(() => null)]);
    assert.ok(exit, 'the killed server exited');
    assert.equal(exit.signal, 'SIGKILL', `the server died of SIGKILL, not on its own: ${server.output()}`);

    assert.deepEqual(outcome.badReplies, [], 'a healthy server answers every message 200 OK');
    assert.ok(outcome.acknowledged.size > 0, 'some messages were acknowledged before the kill');

    const { perMessage, integrity } = inspect(dbPath);
    const storedUnacknowledged = [...perMessage.keys()].filter((a) => !outcome.acknowledged.has(a)).length;
    console.log(`  killed ${killedAt - started} ms into the stream: ${outcome.sent.size} messages sent, ` +
      `${outcome.acknowledged.size} acknowledged, ${perMessage.size} stored (${storedUnacknowledged} of them unacknowledged)`);
    assert.equal(integrity, 'ok', 'PRAGMA integrity_check');
    const lost = [...outcome.acknowledged].filter((a) => perMessage.get(a) !== ALERTS_PER_MESSAGE)
      .map((a) => `${a}: ${perMessage.get(a) ?? 0} of ${ALERTS_PER_MESSAGE}`);
    assert.deepEqual(lost, [], 'every acknowledged message has all its alerts stored');
    const partial = [...perMessage].filter(([, n]) => n !== ALERTS_PER_MESSAGE).map(([a, n]) => `${a}: ${n}`);
    assert.deepEqual(partial, [], 'every message is stored with all or none of its alerts');
    const unknown = [...perMessage.keys()].filter((a) => !outcome.sent.has(a));
    assert.deepEqual(unknown, [], 'only alerts that were sent are stored');
    const storedBefore = [...perMessage.values()].reduce((sum, n) => sum + n, 0);

    // A server restarted on the same file serves and accepts a new message.
    const restarted = startServer(dbPath, await freePort(), synchronous);
    servers.push(restarted);
    await waitUntilServing(restarted);
    const analyzer = `cowrie-dur-${round}-after-restart`;
    const response = await fetch(restarted.url + INGEST, {
      method: 'POST',
      body: messageFor(analyzer),
      headers: { 'content-type': 'text/xml' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '<Result><StatusCode>OK</StatusCode><Text></Text></Result>');
    await stopServer(restarted, 'SIGTERM');
    const after = inspect(dbPath);
    assert.equal(after.integrity, 'ok', 'PRAGMA integrity_check after the restart');
    assert.equal(after.perMessage.get(analyzer), ALERTS_PER_MESSAGE, 'the new message is stored after the restart');
    const storedAfter = [...after.perMessage.values()].reduce((sum, n) => sum + n, 0);
    assert.equal(storedAfter, storedBefore + ALERTS_PER_MESSAGE, 'the restart lost nothing and added the new message');
  } finally {
    clearTimeout(killTimer);
    for (const server of servers) await stopServer(server, 'SIGKILL');
    dir.remove();
  }
}

describe('durability: kill -9 during a stream of posts', { timeout: 90_000 }, () => {
  const baseSeed = process.env['PEBA_DURABILITY_SEED'] !== undefined
    ? Number(process.env['PEBA_DURABILITY_SEED'])
    : Math.floor(Math.random() * 2 ** 31);
  const rounds: Array<'full' | 'normal'> = ['full', 'full', 'full', 'normal', 'normal'];
  rounds.forEach((synchronous, index) => {
    it(`round ${index + 1} (synchronous=${synchronous}) loses no acknowledged alert`, { timeout: 30_000 }, async () => {
      await killRound(String(index + 1), synchronous, baseSeed + index);
    });
  });
});
