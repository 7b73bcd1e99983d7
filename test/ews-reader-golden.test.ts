/**
 * The EWS reader and validateAlert give, on every document of the corpus (the fixtures and
 * generated odd ones) and however it is cut into pieces, exactly what the implementation before
 * their speed work gave (test/fixtures/ews-reader-golden.json, see ews-reader-corpus.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { corpus, GOLDEN_FILE, outcome, SAME, type GoldenEntry } from './ews-reader-corpus';

const golden = JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as GoldenEntry[];
const cases = corpus();

describe('EWS reader: the same outcome as before, byte for byte', () => {
  it('has the corpus the golden file was written from', () => {
    assert.deepEqual(cases.map((c) => c.name), golden.map((g) => g.name));
  });

  it('reads every document, whole and in pieces, as before', () => {
    let compared = 0;
    for (const [i, c] of cases.entries()) {
      const want = golden[i]!.outcomes;
      for (const [way, cuts] of c.cuts.entries()) {
        const expected = want[way] === SAME ? want[0] : want[way];
        assert.deepEqual(outcome(c, cuts), expected, `${c.name}, cut at ${cuts.length === 0 ? 'nothing' : cuts.join(',')}:\n${c.doc}`);
        compared++;
      }
    }
    assert.equal(compared, golden.length * 3);
  });
});
