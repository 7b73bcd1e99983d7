/**
 * Utf8Text builds bodies in chunks of bytes (feeds, `_bulk`): byte for byte they must be the
 * pieces concatenated and encoded at once, across chunk boundaries, for any text of whole lines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Utf8Text } from '../src/util/utf8-text';
import { hostileText, seededRandom } from './helpers';

test('Utf8Text: the bytes of the pieces joined, for 0 to 2,000 pieces (several chunks), lines with surrogate pairs, lone halves, non-ASCII', () => {
  const random = seededRandom(31);
  for (const count of [0, 1, 511, 512, 513, 1024, 1500, 2000]) {
    const body = new Utf8Text();
    const pieces: string[] = [];
    for (let i = 0; i < count; i++) {
      const piece = random() < 0.5 ? `${hostileText(random, 12)}😀é\n` : hostileText(random, 12);
      if (random() < 0.5) {
        body.add(piece);
        pieces.push(piece);
      } else {
        body.addLine(piece);
        pieces.push(`${piece}\n`);
      }
    }
    assert.deepEqual(body.bytes(), Buffer.from(pieces.join(''), 'utf8'), `${count} pieces`);
  }
});
