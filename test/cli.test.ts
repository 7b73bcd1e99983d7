import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tokenMatches } from '../src/auth/tokens';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { REPO_ROOT, tempDir } from './helpers';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

async function peba(store: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, PEBA_STORE: `sqlite:${store}` } });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

test('user add (generated token), list, remove; only the sha512 hash is stored', async () => {
  const dir = tempDir();
  const db = join(dir.path, 'peba.db');
  try {
    const added = await peba(db, 'user', 'add', 'acme', '--email', 'soc@acme.example');
    assert.equal(added.code, 0, added.stderr);
    const token = /token: (\S+)/.exec(added.stdout)?.[1];
    assert.ok(token && token.length >= 24, added.stdout);
    assert.equal((await peba(db, 'user', 'add', 'beta', '--token', 'given-token', '--get-only')).stdout.trim(), 'user beta added');

    const store = new SqliteStore({ path: db });
    try {
      const acme = await store.getUser('acme');
      assert.ok(acme);
      assert.match(acme.tokenHash, /^[0-9a-f]{128}$/);
      assert.ok(tokenMatches(token, acme.tokenHash));
      assert.equal(acme.email, 'soc@acme.example');
      assert.equal((await store.getUser('beta'))?.getOnly, true);
    } finally {
      await store.close();
    }

    const listed = await peba(db, 'user', 'list');
    assert.equal(listed.stdout, 'acme\tsoc@acme.example\t\nbeta\t\tget-only\n');
    assert.ok(!listed.stdout.includes(token));

    assert.equal((await peba(db, 'user', 'remove', 'acme')).stdout.trim(), 'user acme removed');
    const again = await peba(db, 'user', 'remove', 'acme');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no user acme/);
    assert.equal((await peba(db, 'user', 'list')).stdout, 'beta\t\tget-only\n');
  } finally {
    dir.remove();
  }
});

test('bad usage and bad configuration exit non-zero with a message', async () => {
  const dir = tempDir();
  try {
    const db = join(dir.path, 'peba.db');
    const unknown = await peba(db, 'frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command: frobnicate\nusage: peba/);
    const badName = await peba(db, 'user', 'add', 'bad name;');
    assert.equal(badName.code, 2);
    const { stderr, code } = await run(process.execPath, [CLI, 'start'], { env: { ...process.env, PEBA_BINDHOST: 'nowhere' } })
      .then(() => ({ stderr: '', code: 0 }), (e: { stderr: string; code: number }) => e);
    assert.equal(code, 1);
    assert.match(stderr, /configuration error: BINDHOST: expected host:port/);
  } finally {
    dir.remove();
  }
});
