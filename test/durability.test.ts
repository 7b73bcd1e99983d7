/**
 * Durability: a `kill -9` of the server at any moment while senders stream alerts loses no
 * alert that was acknowledged with `<StatusCode>OK</StatusCode>`, never leaves half a message
 * stored, and leaves a database that a restarted server opens and writes to.
 *
 * The real server runs as a child process (the compiled CLI); four clients stream messages of
 * 50 unique alerts, each message with its own analyzer id so that its rows can be counted; the
 * child is SIGKILLed after a random number of acknowledged messages (seeded; set
 * PEBA_DURABILITY_SEED to replay a run), while the other clients are in the middle of theirs.
 */
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { alertXml, ewsMessage, seededRandom, tempDir } from './helpers';
import { inspectStore, startServerProcess, type ServerProcess } from './server-process';

const INGEST = '/ews-0.1/alert/postSimpleMessage';
const CLIENTS = 4;
const ALERTS_PER_MESSAGE = 50;
/** Upper bound on messages one client sends in a round, so a round is bounded even if the kill misfires. */
const MAX_MESSAGES_PER_CLIENT = 2000;
/** The kill comes after a seeded number of acknowledgements in this range: a moment in the stream, not on a clock. */
const KILL_AFTER_ACKS = { min: 1, max: 60 };

function startServer(dbPath: string, synchronous: 'full' | 'normal'): ServerProcess {
  // Access lines for thousands of posts would only slow the child down.
  return startServerProcess({ PEBA_STORE: `sqlite:${dbPath}`, PEBA_SQLITE_SYNCHRONOUS: synchronous, PEBA_ACCESS_LOG: 'off' });
}

/** Kills the child (if still running) and waits for it to be gone. */
async function stopServer(server: ServerProcess, signal: NodeJS.Signals): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
  await server.exited;
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
 * `onAck` runs after each acknowledgement with the number so far.
 */
async function stream(url: string, round: string, onAck: (acknowledged: number) => void): Promise<StreamOutcome> {
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
        });
        status = response.status;
        text = await response.text();
      } catch {
        return; // connection refused or reset: the server is gone, this message is not acknowledged
      }
      if (status === 200 && text.includes('<StatusCode>OK</StatusCode>')) {
        acknowledged.add(analyzer);
        onAck(acknowledged.size);
      }
      else badReplies.push(`${analyzer}: ${status} ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { acknowledged, sent, badReplies };
}

async function killRound(round: string, synchronous: 'full' | 'normal', seed: number): Promise<void> {
  // Consecutive seeds would start the generator at nearly the same point: hash them first.
  const random = seededRandom(createHash('sha256').update(String(seed)).digest().readUInt32LE(0));
  const killAfterAcks = KILL_AFTER_ACKS.min + Math.floor(random() * (KILL_AFTER_ACKS.max - KILL_AFTER_ACKS.min + 1));
  console.log(`durability round ${round}: synchronous=${synchronous} seed=${seed} kill after ${killAfterAcks} acknowledged messages`);
  const dir = tempDir('peba-durability-');
  const dbPath = join(dir.path, 'peba.db');
  const servers: ServerProcess[] = [];
  try {
    const server = startServer(dbPath, synchronous);
    servers.push(server);
    const url = await server.listening();

    // SIGKILL once enough messages are acknowledged: the other clients are mid-message then.
    const outcome = await stream(url, round, (acknowledged) => {
      if (acknowledged === killAfterAcks) server.child.kill('SIGKILL');
    });
    const exit = await server.exited;
    assert.equal(exit.signal, 'SIGKILL', `the server died of SIGKILL, not on its own: ${server.output()}`);

    assert.deepEqual(outcome.badReplies, [], 'a healthy server answers every message 200 OK');
    assert.ok(outcome.acknowledged.size >= killAfterAcks, 'the messages before the kill were acknowledged');

    const { perMessage, integrity } = inspectStore(dbPath, { recoverWal: true });
    const storedUnacknowledged = [...perMessage.keys()].filter((a) => !outcome.acknowledged.has(a)).length;
    console.log(`  ${outcome.sent.size} messages sent, ${outcome.acknowledged.size} acknowledged, ` +
      `${perMessage.size} stored (${storedUnacknowledged} of them unacknowledged)`);
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
    const restarted = startServer(dbPath, synchronous);
    servers.push(restarted);
    const restartedUrl = await restarted.listening();
    const analyzer = `cowrie-dur-${round}-after-restart`;
    const response = await fetch(restartedUrl + INGEST, { method: 'POST', body: messageFor(analyzer), headers: { 'content-type': 'text/xml' } });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '<Result><StatusCode>OK</StatusCode><Text></Text></Result>');
    await stopServer(restarted, 'SIGTERM');
    assert.equal((await restarted.exited).code, 0, 'a clean stop after the restart');
    const after = inspectStore(dbPath, { recoverWal: true });
    assert.equal(after.integrity, 'ok', 'PRAGMA integrity_check after the restart');
    assert.equal(after.perMessage.get(analyzer), ALERTS_PER_MESSAGE, 'the new message is stored after the restart');
    const storedAfter = [...after.perMessage.values()].reduce((sum, n) => sum + n, 0);
    assert.equal(storedAfter, storedBefore + ALERTS_PER_MESSAGE, 'the restart lost nothing and added the new message');
  } finally {
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
