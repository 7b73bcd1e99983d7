/**
 * The OpenSearch node the tests run against: the one `PEBA_TEST_OPENSEARCH` names, started by
 * tools/opensearch (`npm test` and .ci/run start it; see the README).
 */
export function openSearchUrl(): string {
  const url = process.env['PEBA_TEST_OPENSEARCH'];
  if (url === undefined || url === '') {
    throw new Error('PEBA_TEST_OPENSEARCH is not set: run `npm test`, or start a node with '
      + '`eval "$(npm run -s opensearch -- start)"` and stop it with `npm run -s opensearch -- stop`');
  }
  return url.replace(/\/+$/, '');
}
