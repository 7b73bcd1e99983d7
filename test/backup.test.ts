/**
 * `peba backup FILE` while the server keeps storing: the copy is a valid PEBA store holding every
 * message acknowledged before the command started, each message whole or not at all, and the
 * command never overwrites an existing file.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { alertXml, ewsMessage, OK_REPLY, postMessage, REPO_ROOT, startApp } from './helpers';
import { inspectStore } from './server-process';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const ALERTS_PER_MESSAGE = 20;
const CLIENTS = 2;

function messageFor(analyzer: string): string {
  return ewsMessage(Array.from({ length: ALERTS_PER_MESSAGE }, (_, i) => alertXml({
    analyzer,
    createTime: `2026-11-27 10:00:${String(i).padStart(2, '0')}`,
    additional: { username: 'root', password: `pw${i}` },
  })));
}

test('peba backup while messages arrive: a valid store with every message acknowledged before it started', async () => {
  const running = await startApp({ SQLITE_SYNCHRONOUS: 'normal' });
  const dbPath = join(running.dir, 'peba.db');
  const backupPath = join(running.dir, 'backup', 'peba-backup.db');
  const acknowledged: string[] = [];
  const sent = new Set<string>();
  const badReplies: string[] = [];
  let stop = false;
  let backupRunning = false;
  let acknowledgedDuringBackup = 0;
  let next = 0;
  let enoughAcks: () => void;
  const warmedUp = new Promise<void>((resolve) => (enoughAcks = resolve));
  const client = async (): Promise<void> => {
    while (!stop) {
      const analyzer = `cowrie-backup-${next++}`;
      sent.add(analyzer);
      const reply = await postMessage(running.url, messageFor(analyzer));
      if (reply.status !== 200 || reply.text !== OK_REPLY) {
        badReplies.push(`${analyzer}: ${reply.status} ${reply.text.slice(0, 200)}`);
        continue;
      }
      acknowledged.push(analyzer);
      if (backupRunning) acknowledgedDuringBackup++;
      if (acknowledged.length === 10) enoughAcks();
    }
  };
  try {
    const clients = Promise.all(Array.from({ length: CLIENTS }, client));
    await warmedUp;
    // Posts keep arriving while the backup runs, until the command has exited.
    mkdirSync(join(running.dir, 'backup'));
    const acknowledgedBefore = [...acknowledged];
    backupRunning = true;
    const child = spawn(process.execPath, [CLI, 'backup', backupPath], {
      env: { ...process.env, PEBA_STORE: `sqlite:${dbPath}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    backupRunning = false;
    stop = true;
    await clients;

    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`^backup written to ${backupPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ bytes, \\d+ ms\\)\\n$`));
    assert.deepEqual(badReplies, []);
    assert.ok(acknowledgedDuringBackup > 0, 'messages were acknowledged while the backup ran');
    assert.deepEqual(readdirSync(join(running.dir, 'backup')), ['peba-backup.db'], 'no partial file is left beside the backup');

    const copy = inspectStore(backupPath);
    assert.equal(copy.integrity, 'ok');
    const missing = acknowledgedBefore.filter((a) => copy.perMessage.get(a) !== ALERTS_PER_MESSAGE);
    assert.deepEqual(missing, [], 'every message acknowledged before the backup started is in it, whole');
    const partial = [...copy.perMessage].filter(([, n]) => n !== ALERTS_PER_MESSAGE);
    assert.deepEqual(partial, [], 'a message is in the backup whole or not at all');
    assert.deepEqual([...copy.perMessage.keys()].filter((a) => !sent.has(a)), [], 'only alerts that were sent');

    const live = inspectStore(dbPath);
    assert.ok(live.perMessage.size > copy.perMessage.size, 'the live store went on growing after the snapshot');
    for (const analyzer of copy.perMessage.keys()) assert.equal(live.perMessage.get(analyzer), ALERTS_PER_MESSAGE);

    // The copy is a PEBA store: it opens as one (schema present, no migration needed) and answers.
    const restored = new SqliteStore({ path: backupPath, mustExist: true });
    try {
      const stored = [...copy.perMessage.values()].reduce((sum, n) => sum + n, 0);
      let exported = 0;
      for await (const _ of restored.exportAlerts()) exported++;
      assert.equal(exported, stored);
    } finally {
      await restored.close();
    }
  } finally {
    stop = true;
    await running.close();
  }
});

test('peba backup never overwrites a file, and refuses a store that is not there', async () => {
  const running = await startApp();
  const run = promisify(execFile);
  const dbPath = join(running.dir, 'peba.db');
  const env = { ...process.env, PEBA_STORE: `sqlite:${dbPath}` };
  try {
    const existing = join(running.dir, 'old-backup.db');
    writeFileSync(existing, 'the previous backup');
    const refused = await run(process.execPath, [CLI, 'backup', existing], { env }).then(() => null, (e: { code: number; stderr: string }) => e);
    assert.ok(refused, 'exit code not 0');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /old-backup\.db exists; give a new file name/);
    assert.equal(readFileSync(existing, 'utf8'), 'the previous backup');

    const missingStore = join(running.dir, 'typo', 'peba.db');
    const target = join(running.dir, 'new-backup.db');
    const noStore = await run(process.execPath, [CLI, 'backup', target], { env: { ...env, PEBA_STORE: `sqlite:${missingStore}` } })
      .then(() => null, (e: { code: number; stderr: string }) => e);
    assert.equal(noStore?.code, 1);
    assert.ok(noStore.stderr.includes(`no PEBA store at ${missingStore}`), noStore.stderr);
    assert.ok(!existsSync(target) && !existsSync(join(running.dir, 'typo')), 'nothing created');

    // The server still answers after all that.
    assert.equal((await postMessage(running.url, messageFor('cowrie-after'))).text, OK_REPLY);
  } finally {
    await running.close();
  }
});
