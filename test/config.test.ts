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
    [{ PEBA_STORE: 'opensearch+ftp://host:9200' }, /^STORE: expected sqlite:PATH, opensearch\+http/],
    [{ PEBA_STORE: 'opensearch+http://a:9200,' }, /^STORE/],
    [{ PEBA_OPENSEARCH_REFRESH: 'always' }, /^OPENSEARCH_REFRESH: expected one of false, true, wait_for/],
    [{ PEBA_SQLITE_SYNCHRONOUS: 'off' }, /^SQLITE_SYNCHRONOUS: expected one of full, normal/],
    [{ PEBA_BODY_LIMIT: '-1' }, /^BODY_LIMIT/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig({ env, file: undefined }), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
  }
});

test('STORE names SQLite, OpenSearch nodes (http or https, comma separated) or the original\'s ELASTICSEARCH_HOST', () => {
  for (const store of ['sqlite:/tmp/x.db', 'opensearch', 'opensearch+http://127.0.0.1:9200', 'opensearch+https://a.example:9200,http://b.example:9201/']) {
    assert.equal(loadConfig({ env: { PEBA_STORE: store }, file: undefined }).STORE, store);
  }
});

test('a malformed configuration file names file and line', () => {
  assert.throws(() => parseConfigFile('A="1"\nthis is not a setting\n', 'peba.cfg'), /peba\.cfg:2: expected KEY="value"/);
  assert.throws(() => parseConfigFile('A="1\n', 'peba.cfg'), /peba\.cfg:1: A: unterminated quote/);
  assert.throws(() => loadConfig({ file: '/nonexistent/peba.cfg', env: {} }), /cannot read configuration file \/nonexistent\/peba\.cfg/);
});

test('ELASTICSEARCH_HOST: host:port or http(s) URLs, several with commas; anything else refused', () => {
  for (const good of ['127.0.0.1:9200', 'es.example:9200', 'https://es.example:9243', 'http://[::1]:9200/prefix', 'es1:9200, es2:9200']) {
    assert.doesNotThrow(() => loadConfig({ env: { PEBA_ELASTICSEARCH_HOST: good }, file: undefined }), good);
  }
  for (const bad of ['', 'any text', 'ftp://es.example', 'http://', 'es.example:99999', 'http://es.example?x=1', 'es1:9200,,es2:9200']) {
    assert.throws(() => loadConfig({ env: { PEBA_ELASTICSEARCH_HOST: bad }, file: undefined }),
      (error: unknown) => error instanceof ConfigError && /^ELASTICSEARCH_HOST: expected host:port/.test(error.message), JSON.stringify(bad));
  }
});

test('CACHE_TTL: known endpoints only, once each, at most 30 days', () => {
  const config = loadConfig({ env: { PEBA_CACHE_TTL: 'tops=600, retrieveAlertsJson=2,TpotStats=0' }, file: undefined });
  assert.deepEqual([...config.CACHE_TTL], [['tops', 600], ['retrieveAlertsJson', 2], ['TpotStats', 0]]);
  const cases: Array<[string, RegExp]> = [
    ['topz=600', /CACHE_TTL: topz is not a cached endpoint \(one of .*tops/],
    ['retrieveIPs=5', /CACHE_TTL: retrieveIPs is not a cached endpoint/],
    ['tops=600,tops=60', /CACHE_TTL: tops is given twice/],
    ['tops=2592001', /CACHE_TTL: tops=2592001 is more than 30 days/],
    ['tops=-1', /CACHE_TTL: expected endpoint=seconds/],
    ['tops', /CACHE_TTL: expected endpoint=seconds/],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => loadConfig({ env: { PEBA_CACHE_TTL: value }, file: undefined }), message, value);
  }
});

test('CORSDOMAIN: an http(s) URL; * refused (browsers refuse it with credentials)', () => {
  assert.equal(loadConfig({ env: { PEBA_CORSDOMAIN: 'https://dashboard.example' }, file: undefined }).CORSDOMAIN, 'https://dashboard.example');
  assert.equal(loadConfig({ env: { PEBA_CORSDOMAIN: 'http://127.0.0.1:8080' }, file: undefined }).CORSDOMAIN, 'http://127.0.0.1:8080');
  // A path is the original's redirect target for `/`: kept.
  assert.equal(loadConfig({ env: { PEBA_CORSDOMAIN: 'https://peba.example/dashboard/' }, file: undefined }).CORSDOMAIN, 'https://peba.example/dashboard/');
  assert.throws(() => loadConfig({ env: { PEBA_CORSDOMAIN: '*' }, file: undefined }), /CORSDOMAIN: \* is not allowed with credentials/);
  for (const bad of ['', 'dashboard.example', 'javascript:alert(1)', 'https://a.example\r\nX-Injected: 1', 'https://a.example?x=1', 'https://user@a.example', 'ftp://a.example']) {
    assert.throws(() => loadConfig({ env: { PEBA_CORSDOMAIN: bad }, file: undefined }), /CORSDOMAIN: expected the dashboard's origin/, JSON.stringify(bad));
  }
});

test('an empty COMMUNITYTOKEN or COMMUNITYUSER stops start-up', () => {
  assert.throws(() => loadConfig({ env: { PEBA_COMMUNITYTOKEN: '' }, file: undefined }), /COMMUNITYTOKEN: must not be empty/);
  assert.throws(() => loadConfig({ env: { PEBA_COMMUNITYTOKEN: '   ' }, file: undefined }), /COMMUNITYTOKEN: must not be empty/);
  assert.throws(() => loadConfig({ env: { PEBA_COMMUNITYUSER: '' }, file: undefined }), /COMMUNITYUSER: must not be empty/);
});

test('unknown PEBA_* environment variables are warned about like unknown file keys', () => {
  const warnings: string[] = [];
  loadConfig({
    env: { PEBA_MAXALERT: '10', PEBA_STORE: 'sqlite:x.db', OTHER_THING: '1', PEBA: 'x', PEBA_TEST_OPENSEARCH: 'http://127.0.0.1:1' },
    file: undefined,
    warn: (m) => warnings.push(m),
  });
  assert.deepEqual(warnings, ['environment: unknown variable PEBA_MAXALERT ignored']);
});

test('an error names where the bad value came from: environment or file', () => {
  const dir = tempDir();
  try {
    const file = join(dir.path, 'peba.cfg');
    writeFileSync(file, 'MAXALERTS="many"\nRETENTION_DAYS="30"\nAGGREGATE_RETENTION_DAYS="7"\n');
    assert.throws(() => loadConfig({ file, env: {} }), (error: unknown) =>
      error instanceof ConfigError && error.message === `MAXALERTS: expected an integer, got "many" (from file ${file})`);
    assert.throws(() => loadConfig({ file, env: { PEBA_MAXALERTS: 'lots' } }), (error: unknown) =>
      error instanceof ConfigError && error.message === 'MAXALERTS: expected an integer, got "lots" (from environment variable PEBA_MAXALERTS)');
    assert.throws(() => loadConfig({ file, env: { PEBA_MAXALERTS: '5' } }), (error: unknown) =>
      error instanceof ConfigError && /^AGGREGATE_RETENTION_DAYS: .* \(from file .*peba\.cfg\)$/.test(error.message));
  } finally {
    dir.remove();
  }
});
