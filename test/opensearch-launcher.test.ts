/** The node tools/opensearch assembles and starts: green, the modules PEBA relies on, the small heap. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openSearchUrl } from './opensearch-node';

async function get(path: string): Promise<unknown> {
  const response = await fetch(`${openSearchUrl()}${path}`);
  assert.equal(response.status, 200, path);
  return response.json();
}

test('the test node is a green single-node OpenSearch 2.19 with the assembled modules and a 512 MB heap', async () => {
  const health = await get('/_cluster/health') as { status: string; number_of_nodes: number };
  assert.equal(health.status, 'green');
  assert.equal(health.number_of_nodes, 1);
  const info = await get('/') as { version: { distribution: string; number: string } };
  assert.equal(info.version.distribution, 'opensearch');
  assert.equal(info.version.number, '2.19.6');
  const nodes = await get('/_nodes/plugins,jvm') as { nodes: Record<string, { modules: Array<{ name: string }>; jvm: { mem: { heap_max_in_bytes: number } } }> };
  const node = Object.values(nodes.nodes)[0]!;
  assert.deepEqual(node.modules.map((m) => m.name).sort(),
    ['aggs-matrix-stats', 'analysis-common', 'lang-painless', 'mapper-extras', 'parent-join', 'reindex', 'transport-netty4']);
  assert.equal(node.jvm.mem.heap_max_in_bytes, 512 * 1024 * 1024);
});
