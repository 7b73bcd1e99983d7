/*
 * The README's test command (after compiling): the whole suite on the default SQLite store, then
 * the HTTP endpoint tests again on OpenSearch (PEBA_TEST_STORE=opensearch), the same test files
 * with the store chosen in test/helpers.ts. The store contract runs on both stores in the first
 * pass already (store-sqlite.test.js, store-opensearch.test.js). Needs PEBA_TEST_OPENSEARCH:
 * `npm test` wraps this in tools/opensearch's `run`, which starts a node when none is named.
 *
 *   node dist/scripts/run-tests.js
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The endpoint tests that run on every store, refusals of bad input and hostile parameters included. */
const ENDPOINT_TESTS = [
  'query-counts', 'query-datasets', 'query-endpoints', 'query-private', 'query-tops-stats', 'ingest-fixtures', 'cache-endpoints',
  'bad-input', 'hostile-params', 'metrics', 'firewall-feeds',
];

const testDir = join(__dirname, '../test');

function run(files: string[], env: NodeJS.ProcessEnv): number {
  // A hang guard, not a speed check: a test that never ends fails after 10 minutes instead of
  // holding CI to its limit (no test comes near it: the slowest took 25 s in CI).
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=600000', ...files], { stdio: 'inherit', env });
  return result.status ?? 1;
}

const sqlite = run([`${testDir}/`], process.env);
const opensearch = run(ENDPOINT_TESTS.map((name) => join(testDir, `${name}.test.js`)), { ...process.env, PEBA_TEST_STORE: 'opensearch' });
process.exitCode = sqlite !== 0 ? sqlite : opensearch;
