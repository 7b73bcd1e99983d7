/** Element text of XML replies is escaped as Python's ElementTree writes it (CONTRACT section 6). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultXml, xmlDocument } from '../src/api/format/xml';

test('element text escapes & < > only: quotes and apostrophes stay', () => {
  assert.equal(
    xmlDocument({ name: 'Alerts', children: [{ name: 'Request', text: `/a"&x=1` }, { name: 'Request', text: `<b>'c'</b>` }] }),
    `<?xml version="1.0" encoding="UTF-8"?><Alerts>\n  <Request>/a"&amp;x=1</Request>\n  <Request>&lt;b&gt;'c'&lt;/b&gt;</Request>\n</Alerts>\n`,
  );
  assert.equal(resultXml('Failed', `bad "x" & <y>`), `<Result><StatusCode>Failed</StatusCode><Text>bad "x" &amp; &lt;y&gt;</Text></Result>`);
});

test('characters XML 1.0 cannot carry are dropped', () => {
  assert.equal(xmlDocument({ name: 'R', text: 'a\u0000b\u0008c\u000bd\ufffee"' }), '<?xml version="1.0" encoding="UTF-8"?><R>abcde"</R>\n');
});
