/** Cutting time ranges into aggregate buckets and raw remainders, complements included. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAY_MS, HOUR_MS, MINUTE_MS, splitRange, type RangePiece } from '../src/store/range-split';
import { seededRandom } from './helpers';

/** How often the signed pieces count second `t`: must be 1 inside the range and 0 outside. */
function coverage(pieces: readonly RangePiece[], t: number): number {
  return pieces.reduce((n, p) => n + (t >= p.from && t < p.to ? p.sign : 0), 0);
}

test('signed pieces count every second of the range exactly once, whatever now is', () => {
  const next = seededRandom(7);
  const base = Date.UTC(2026, 10, 27);
  for (let i = 0; i < 300; i++) {
    const from = base + Math.floor(next() * 3 * DAY_MS / 1000) * 1000;
    const to = from + Math.floor(next() * 2 * DAY_MS / 1000) * 1000;
    const now = base + Math.floor(next() * 6 * DAY_MS);
    const grains = [[MINUTE_MS, HOUR_MS], [HOUR_MS], [DAY_MS], [HOUR_MS, DAY_MS]][i % 4]!;
    const pieces = splitRange({ from, to }, grains, now);
    for (const piece of pieces) {
      if (piece.grain !== 0) assert.equal(piece.from % piece.grain, 0, 'buckets start on their grid');
      assert.ok(piece.from < piece.to);
    }
    // Every piece boundary and a second either side of it, plus random seconds.
    const probes = new Set<number>([from - 1000, from, to - 1000, to]);
    for (const p of pieces) for (const t of [p.from - 1000, p.from, p.to - 1000, p.to]) probes.add(t);
    for (let k = 0; k < 50; k++) probes.add(from - HOUR_MS + Math.floor(next() * (to - from + 2 * HOUR_MS) / 1000) * 1000);
    for (const t of probes) assert.equal(coverage(pieces, t), t >= from && t < to ? 1 : 0, `t=${t} in [${from}, ${to}) now=${now}`);
  }
});

test('a window ending now reads its current bucket whole and takes away the future rest', () => {
  const hour = Date.UTC(2026, 10, 27, 13);
  const now = hour + 20 * MINUTE_MS + 7000;
  const pieces = splitRange({ from: now - DAY_MS, to: now }, [HOUR_MS], now);
  assert.deepEqual(pieces, [
    { grain: HOUR_MS, from: hour - DAY_MS, to: hour - DAY_MS + HOUR_MS, sign: 1 },
    { grain: 0, from: hour - DAY_MS, to: now - DAY_MS, sign: -1 },
    { grain: HOUR_MS, from: hour - DAY_MS + HOUR_MS, to: hour, sign: 1 },
    { grain: HOUR_MS, from: hour, to: hour + HOUR_MS, sign: 1 },
    { grain: 0, from: now, to: hour + HOUR_MS, sign: -1 },
  ]);
  // Without now (or early in the bucket) the remainders are counted raw as they are.
  assert.deepEqual(splitRange({ from: hour + 5000, to: hour + 65_000 }, [HOUR_MS]), [{ grain: 0, from: hour + 5000, to: hour + 65_000, sign: 1 }]);
});
