import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseConfigFile } from '../src/config';
import { tempDir } from './helpers';

test('with no configuration at all: the original defaults and the T-Pot community credentials', () => {
  const config = loadConfig({ env: {}, file: undefined });
  assert.deepEqual(config.BINDHOST, { host: '127.0.0.1', port: 9922 });
  assert.equal(config.DEFAULTRESPONSE, 'Nope');
  assert.equal(config.MAXALERTS, 5);
  assert.equal(config.BADIPTIMESPAN, 120);
  assert.equal(config.COMMUNITYUSER, 'community-01-user');
  assert.equal(config.COMMUNITYTOKEN, 'foth{a5maiCee8fineu7');
  assert.equal(config.STORE, 'sqlite:./data/peba.db');
  assert.equal(config.BODY_LIMIT, 20 * 1024 * 1024);
  assert.equal(config.SQLITE_SYNCHRONOUS, 'full');
});

test('a KEY="value" file, overridden by PEBA_ environment variables', () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'peba.cfg');
    writeFileSync(file, [
      '# PEBA configuration',
      'BINDHOST="0.0.0.0:8080"',
      "DEFAULTRESPONSE='Nothing here'",
      'MAXALERTS = 1000   # newest alerts',
      'COMMUNITYTOKEN="tok#en"',
      'SOMETHING_OLD="ignored"',
      '',
    ].join('\n'));
    const warnings: string[] = [];
    const config = loadConfig({ file, env: { PEBA_MAXALERTS: '50', OTHER: 'x' }, warn: (m) => warnings.push(m) });
    assert.deepEqual(config.BINDHOST, { host: '0.0.0.0', port: 8080 });
    assert.equal(config.DEFAULTRESPONSE, 'Nothing here');
    assert.equal(config.MAXALERTS, 50, 'environment wins over the file');
    assert.equal(config.COMMUNITYTOKEN, 'tok#en', 'a # inside quotes is part of the value');
    assert.deepEqual(warnings, [`${file}: unknown key SOMETHING_OLD ignored`]);
  } finally {
    dir.remove();
  }
});

test('a bad value stops start-up with a message naming the key', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PEBA_BINDHOST: 'localhost' }, /^BINDHOST: expected host:port/],
    [{ PEBA_BINDHOST: '127.0.0.1:99999' }, /^BINDHOST/],
    [{ PEBA_MAXALERTS: 'ten' }, /^MAXALERTS: expected an integer/],
    [{ PEBA_BADIPTIMESPAN: '0' }, /^BADIPTIMESPAN: 0 is outside/],
    [{ PEBA_STORE: 'mysql://x' }, /^STORE: expected sqlite:PATH/],
    [{ PEBA_SQLITE_SYNCHRONOUS: 'off' }, /^SQLITE_SYNCHRONOUS: expected one of full, normal/],
    [{ PEBA_BODY_LIMIT: '-1' }, /^BODY_LIMIT/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig({ env, file: undefined }), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
  }
});

test('a malformed configuration file names file and line', () => {
  assert.throws(() => parseConfigFile('A="1"\nthis is not a setting\n', 'peba.cfg'), /peba\.cfg:2: expected KEY="value"/);
  assert.throws(() => parseConfigFile('A="1\n', 'peba.cfg'), /peba\.cfg:1: A: unterminated quote/);
  assert.throws(() => loadConfig({ file: '/nonexistent/peba.cfg', env: {} }), /cannot read configuration file \/nonexistent\/peba\.cfg/);
});
