/**
 * The body decoder reads the encoding from a byte order mark or the XML declaration, however
 * the body is cut into pieces (a declaration, a UTF-8 or UTF-16 character split between them).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BodyDecoder } from '../src/ingest/body-decoder';

function decodeInPieces(body: Buffer, size: number): string {
  const decoder = new BodyDecoder();
  let text = '';
  for (let at = 0; at < body.length; at += size) text += decoder.decode(body.subarray(at, at + size));
  return text + decoder.end();
}

const doc = (declaration: string) => `${declaration}<r>jürgen € 😀</r>`;
const cases: Array<[string, Buffer, string]> = [
  ['no declaration, UTF-8', Buffer.from(doc('')), doc('')],
  ['UTF-8 with a byte order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(doc(''))]), doc('')],
  ['ISO-8859-1', Buffer.from(doc('<?xml version="1.0" encoding="iso-8859-1"?>').replace(' € 😀', ''), 'latin1'), doc('<?xml version="1.0" encoding="iso-8859-1"?>').replace(' € 😀', '')],
  ['windows-1252', Buffer.from(doc("<?xml version='1.0' encoding='CP1252' ?>").replace('€', '\x80').replace(' 😀', ''), 'latin1'), doc("<?xml version='1.0' encoding='CP1252' ?>").replace(' 😀', '')],
  ['UTF-16LE', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(doc('<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le')]), doc('<?xml version="1.0" encoding="UTF-16"?>')],
  ['UTF-16BE', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(doc(''), 'utf16le').swap16()]), doc('')],
  ['a declaration without encoding', Buffer.from(doc('<?xml version="1.0"?>')), doc('<?xml version="1.0"?>')],
];

describe('body decoder', () => {
  for (const [name, body, expected] of cases) {
    it(`${name}: the same text in pieces of any size`, () => {
      for (const size of [1, 2, 3, 5, 7, 64, body.length]) assert.equal(decodeInPieces(body, size), expected, `pieces of ${size}`);
    });
  }

  it('a body ending inside a UTF-8 character is refused', () => {
    const body = Buffer.from('<r>ü</r>').subarray(0, 4);
    assert.throws(() => decodeInPieces(body, 1), /not valid UTF-8/);
  });

  it('a body shorter than a declaration is still decoded', () => {
    assert.equal(decodeInPieces(Buffer.from('<'), 1), '<');
    assert.equal(decodeInPieces(Buffer.from('<?xm'), 1), '<?xm');
  });
});
