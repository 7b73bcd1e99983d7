/**
 * The OpenSearch node the tests run against: the one `PEBA_TEST_OPENSEARCH` names, started by
 * tools/opensearch (`npm test` and .ci/run start it; see the README). Each test store gets its
 * own index names, so tests never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import type { IndexNames } from '../src/store/opensearch/layout';
import { OpenSearchStore } from '../src/store/opensearch/opensearch-store';

export function openSearchUrl(): string {
  const url = process.env['PEBA_TEST_OPENSEARCH'];
  if (url === undefined || url === '') {
    throw new Error('PEBA_TEST_OPENSEARCH is not set: run `npm test`, or start a node with '
      + '`eval "$(npm run -s opensearch -- start)"` and stop it with `npm run -s opensearch -- stop`');
  }
  return url.replace(/\/+$/, '');
}

/** Index names under a fresh prefix. */
export function testIndexNames(): IndexNames {
  const prefix = `t-${randomBytes(5).toString('hex')}`;
  return {
    alertPrefix: `${prefix}-ews`, users: `${prefix}-users`, statistics: `${prefix}-statistics`,
    cve: `${prefix}-ewscve`, payloads: `${prefix}-payloads`, leases: `${prefix}-leases`,
  };
}

/** A store on the test node whose writes are visible when acknowledged (refresh=true), unless told otherwise. */
export function openSearchTestStore(names: IndexNames, refresh: 'true' | 'false' = 'true'): OpenSearchStore {
  return new OpenSearchStore({ nodes: [openSearchUrl()], timeoutMs: 60_000, indices: names, refresh });
}

/** Runs `run` on a store of fresh index names; closes it and removes its indices afterwards. */
export async function withTestStore(run: (store: OpenSearchStore, names: IndexNames) => Promise<void>, options: { refresh?: 'true' | 'false' } = {}): Promise<void> {
  const names = testIndexNames();
  const store = openSearchTestStore(names, options.refresh);
  try {
    await run(store, names);
  } finally {
    await store.close();
    await removeTestIndices(names);
  }
}

/** Deletes every index and the template of `names`. */
export async function removeTestIndices(names: IndexNames): Promise<void> {
  const prefix = names.alertPrefix.slice(0, names.alertPrefix.length - '-ews'.length);
  await fetch(`${openSearchUrl()}/${prefix}-*?expand_wildcards=all`, { method: 'DELETE' });
  await fetch(`${openSearchUrl()}/_index_template/${names.alertPrefix}-alerts`, { method: 'DELETE' });
}
