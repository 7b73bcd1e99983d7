/** The bad-IP list templates write exactly the bytes of the generic XML builder and of JSON.stringify. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { badIpListJson, badIpListXml } from '../src/api/format/bad-ip-list';
import { xmlDocument } from '../src/api/format/xml';
import type { KeyCount } from '../src/domain/query';

const viaTree = (sources: readonly KeyCount[]): string => xmlDocument({
  name: 'EWSSimpleIPInfo',
  children: [{ name: 'Sources', children: sources.map(({ key, count }) => ({ name: 'Source', children: [{ name: 'Address', text: key }, { name: 'Count', text: count }] })) }],
});

/** Many chunks of output, with characters of two, three and four UTF-8 bytes among them. */
const LONG: KeyCount[] = Array.from({ length: 5000 }, (_, i) => ({
  key: i % 997 === 0 ? `é-€-\u{1F600}-${i}` : `10.${i >> 8}.${i & 255}.${i % 7}`,
  count: 5000 - i,
}));

test('XML: the same bytes as xmlDocument, for empty, small and odd lists', () => {
  const lists: KeyCount[][] = [
    [],
    [{ key: '81.2.69.142', count: 4 }],
    [{ key: '2a02:d180::1', count: 30 }, { key: '216.160.83.56', count: 1 }, { key: '::ffff:81.2.69.142', count: 1 }],
    // Never from the store (addresses are canonical), but the template must escape like the tree.
    [{ key: 'a<b&"c\'>', count: 2 }],
    LONG,
  ];
  for (const list of lists) assert.deepEqual(badIpListXml(list), Buffer.from(viaTree(list)));
  assert.equal(badIpListXml([]).toString(), '<?xml version="1.0" encoding="UTF-8"?><EWSSimpleIPInfo>\n  <Sources />\n</EWSSimpleIPInfo>\n');
  // Element text escapes only & < > (as Python's ElementTree): a quote stays a quote.
  assert.ok(badIpListXml([{ key: '/a"&x=1\'', count: 1 }]).toString().includes('      <Address>/a"&amp;x=1\'</Address>\n'));
});

test('JSON: the same text as JSON.stringify of [{ip, count}]', () => {
  for (const list of [[], [{ key: '81.2.69.142', count: 4 }, { key: '2a02:d180::1', count: 3 }], [{ key: 'q"\\', count: 1 }], LONG]) {
    assert.deepEqual(badIpListJson(list), Buffer.from(JSON.stringify(list.map(({ key, count }) => ({ ip: key, count })))));
  }
});
