import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { sha512Hex, tokenMatches } from '../src/auth/tokens';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import type { UserRecord } from '../src/store/store';
import { REPO_ROOT, tempDir } from './helpers';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

async function peba(store: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return pebaWith({ PEBA_STORE: `sqlite:${store}` }, ...args);
}

async function pebaWith(env: Record<string, string>, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
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
    assert.equal((await peba(db, 'init')).code, 0);
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

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  try {
    await body(dir.path);
  } finally {
    dir.remove();
  }
}

test('every command but start and init refuses a store that does not exist, names its path, and creates nothing', async () => {
  await inTempDir(async (dir) => {
    const db = join(dir, 'typo', 'peba.db');
    const input = join(dir, 'alerts.json');
    writeFileSync(input, '{"createTime":"2026-01-10 10:15:00","clientDomain":true,"sourceEntryIp":"81.2.69.142","targetEntryIp":"89.160.20.112"}\n');
    const output = join(dir, 'export.json');
    const commands = [
      ['user', 'list'], ['user', 'add', 'acme'], ['user', 'add', 'acme', '--replace'], ['user', 'remove', 'acme'],
      ['import', input], ['export'], ['export', output], ['backup', output], ['retention'], ['stats'], ['stats', '--from', '2020-01-10 10:00:00'],
    ];
    for (const args of commands) {
      const result = await peba(db, ...args);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '', args.join(' '));
      assert.ok(result.stderr.includes(`no PEBA store at ${db}`), `${args.join(' ')} names the path: ${result.stderr}`);
      assert.match(result.stderr, /peba init/);
      assert.ok(!existsSync(join(dir, 'typo')), `${args.join(' ')} created nothing`);
      assert.ok(!existsSync(output), `${args.join(' ')} wrote no export file`);
    }

    // An empty file (a typo'd touch, another program's file) is not a store either, and stays as it was.
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    const onEmpty = await peba(empty, 'user', 'list');
    assert.equal(onEmpty.code, 1);
    assert.ok(onEmpty.stderr.includes(`no PEBA store at ${empty}`), onEmpty.stderr);
    assert.equal(statSync(empty).size, 0);

    const created = await peba(db, 'init');
    assert.equal(created.code, 0, created.stderr);
    assert.ok(existsSync(db));
    const listed = await peba(db, 'user', 'list');
    assert.deepEqual([listed.code, listed.stdout], [0, '']);
    assert.equal((await peba(db, 'user', 'add', 'acme', '--token', 't')).code, 0);
    assert.equal((await peba(db, 'init')).code, 0, 'init again leaves the store as it is');
    assert.equal((await peba(db, 'user', 'list')).stdout, 'acme\t\t\n');
  });
});

test('user add refuses an existing user unless --replace, and a replace keeps every field not given', async () => {
  await inTempDir(async (dir) => {
    const db = join(dir, 'peba.db');
    const user = async (name: string): Promise<UserRecord | undefined> => {
      const store = new SqliteStore({ path: db });
      try {
        return await store.getUser(name);
      } finally {
        await store.close();
      }
    };
    assert.equal((await peba(db, 'init')).code, 0);
    assert.equal((await peba(db, 'user', 'add', 'acme', '--token', 'first', '--email', 'soc@acme.example', '--get-only')).code, 0);
    const original = await user('acme');

    const again = await peba(db, 'user', 'add', 'acme', '--token', 'second');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /user acme exists; give --replace/);
    assert.deepEqual(await user('acme'), original, 'a refused add changes nothing');

    const email = await peba(db, 'user', 'add', 'acme', '--replace', '--email', 'new@acme.example');
    assert.deepEqual([email.code, email.stdout], [0, 'user acme replaced (token kept)\n']);
    assert.deepEqual(await user('acme'), { ...original!, email: 'new@acme.example' });

    assert.equal((await peba(db, 'user', 'add', 'acme', '--replace', '--no-get-only')).code, 0);
    assert.deepEqual(await user('acme'), { ...original!, email: 'new@acme.example', getOnly: false });

    const token = await peba(db, 'user', 'add', 'acme', '--replace', '--token', 'second');
    assert.deepEqual([token.code, token.stdout], [0, 'user acme replaced\n']);
    const rotated = await user('acme');
    assert.ok(tokenMatches('second', rotated!.tokenHash));
    assert.ok(!tokenMatches('first', rotated!.tokenHash));
    assert.deepEqual({ ...rotated!, tokenHash: '' }, { ...original!, tokenHash: '', email: 'new@acme.example', getOnly: false });

    // A community flag set by other means (an imported users index) survives a replace.
    const store = new SqliteStore({ path: db });
    try {
      await store.putUser({ peerName: 'tpot', tokenHash: sha512Hex('c'), community: true, getOnly: false, email: 'c@x' });
    } finally {
      await store.close();
    }
    assert.equal((await peba(db, 'user', 'add', 'tpot', '--replace', '--get-only')).code, 0);
    assert.deepEqual(await user('tpot'), { peerName: 'tpot', tokenHash: sha512Hex('c'), community: true, getOnly: true, email: 'c@x' });

    const both = await peba(db, 'user', 'add', 'acme', '--replace', '--get-only', '--no-get-only');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /exclude each other/);
    const fresh = await peba(db, 'user', 'add', 'beta', '--replace');
    assert.equal(fresh.code, 0, '--replace of a user that is not there adds it');
    assert.match(fresh.stdout, /^user beta added, token: \S{24,}\n$/);
  });
});

test('help, --help, COMMAND --help and --version answer without configuration or store', async () => {
  await inTempDir(async (dir) => {
    const db = join(dir, 'peba.db');
    // A broken configuration must not stand in the way of reading the help.
    const env = { PEBA_STORE: `sqlite:${db}`, PEBA_BINDHOST: 'nowhere' };
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.deepEqual(await pebaWith(env, '--version'), { stdout: `peba ${version}\n`, stderr: '', code: 0 });
    for (const args of [['help'], ['--help'], ['-h']]) {
      const result = await pebaWith(env, ...args);
      assert.equal(result.code, 0, args.join(' '));
      assert.match(result.stdout, /^usage: peba /);
      for (const command of ['start', 'init', 'user add', 'user list', 'user remove', 'import', 'export', 'backup', 'retention', 'stats', 'help']) {
        assert.match(result.stdout, new RegExp(`\\n  ${command} `), `${args.join(' ')} lists ${command}`);
      }
    }
    for (const args of [['user', '--help'], ['help', 'user'], ['user', 'add', '--help']]) {
      const result = await pebaWith(env, ...args);
      assert.equal(result.code, 0, args.join(' '));
      assert.match(result.stdout, /--replace/);
      assert.doesNotMatch(result.stdout, /import FILE/, 'only the command asked about');
    }
    const stats = await pebaWith(env, 'stats', '--help');
    assert.equal(stats.code, 0);
    assert.match(stats.stdout, /must start a period/);
    const unknown = await pebaWith(env, 'help', 'frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command: frobnicate/);
    assert.ok(!existsSync(db), 'help opened no store');
  });
});

test('stats --from accepts only the start of a STATS_INTERVAL_MINUTES period', async () => {
  await inTempDir(async (dir) => {
    const db = join(dir, 'peba.db');
    const env = { PEBA_STORE: `sqlite:${db}`, PEBA_STATS_INTERVAL_MINUTES: '15' };
    assert.equal((await pebaWith(env, 'init')).code, 0);
    const aligned = await pebaWith(env, 'stats', '--from', '2020-01-10 10:15:00');
    assert.equal(aligned.code, 0, aligned.stderr);
    assert.equal((JSON.parse(aligned.stdout) as { UTCtimeTo: string }).UTCtimeTo, '2020-01-10 10:29:59');

    const inside = await pebaWith(env, 'stats', '--from', '2020-01-10 10:20:00');
    assert.equal(inside.code, 2);
    assert.match(inside.stderr, /--from: 2020-01-10 10:20:00 does not start a period of STATS_INTERVAL_MINUTES \(15 min\)/);
    assert.match(inside.stderr, /"2020-01-10 10:15:00" and "2020-01-10 10:30:00"/);
    const hourly = await pebaWith({ PEBA_STORE: `sqlite:${db}` }, 'stats', '--from', '2020-01-10 10:15:00');
    assert.equal(hourly.code, 2, 'the default period is 60 minutes');

    const store = new SqliteStore({ path: db });
    try {
      const kept = await store.listStatisticsSnapshots('2020-01-10 00:00:00', '2020-01-11 00:00:00');
      assert.deepEqual(kept.map((s) => s.from), ['2020-01-10 10:15:00'], 'a refused --from stores nothing');
    } finally {
      await store.close();
    }
  });
});

test('start: a missing GeoIP file or a port in use ends in one line naming the key, exit code 1', async () => {
  await inTempDir(async (dir) => {
    const store = `sqlite:${join(dir, 'peba.db')}`;
    const geo = await pebaWith({ PEBA_STORE: store, PEBA_BINDHOST: '127.0.0.1:0', PEBA_GEOIP_CITY: join(dir, 'missing.mmdb') }, 'start');
    assert.equal(geo.code, 1);
    assert.equal(geo.stdout, '');
    assert.match(geo.stderr, /^configuration error: GEOIP_CITY: cannot open GeoIP city database .*missing\.mmdb: ENOENT[^\n]*\n$/);
    assert.equal(existsSync(join(dir, 'peba.db')), false, 'no store was created on the way out');

    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    try {
      const busy = await pebaWith({ PEBA_STORE: store, PEBA_BINDHOST: `127.0.0.1:${port}`, PEBA_LOG_LEVEL: 'warn' }, 'start');
      assert.equal(busy.code, 1);
      assert.equal(busy.stdout, '');
      assert.equal(busy.stderr, `configuration error: BINDHOST: cannot listen on 127.0.0.1:${port}: the port is in use by another process (EADDRINUSE)\n`);
    } finally {
      taken.close();
    }
  });
});
