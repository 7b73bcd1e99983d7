/**
 * formatUtc computes the civil date by arithmetic (domain/time.ts says why): it must write exactly
 * what the ISO text of a Date, sliced, writes, for every time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatUtc, parseUtc } from '../src/domain/time';
import { seededRandom } from './helpers';

/** The straightforward form. */
function byDate(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

test('formatUtc equals the sliced ISO text at random times, at day, month, leap-day and year edges, and outside 1970-9999', () => {
  const random = seededRandom(1);
  const times: number[] = [];
  for (let i = 0; i < 200_000; i++) times.push(Math.floor(random() * 253_402_300_800_000), random() * 4_102_444_800_000);
  for (const day of ['1970-01-01', '1972-02-29', '1999-12-31', '2000-02-29', '2000-03-01', '2024-02-29', '2100-02-28', '2100-03-01', '2400-02-29', '9999-12-31']) {
    const start = Date.parse(`${day}T00:00:00Z`);
    for (const delta of [-1001, -1000, -1, 0, 1, 999, 1000, 86_399_999, 86_400_000]) times.push(start + delta);
  }
  times.push(0, 0.5, -0, 253_402_300_799_999, 253_402_300_800_000, -1, -86_400_001, 8.64e15, -8.64e15);
  for (const time of times) assert.equal(formatUtc(time), byDate(time), String(time));
  for (const time of [NaN, Infinity, 8.64e15 + 1]) assert.throws(() => formatUtc(time), RangeError);
});

test('parseUtc reads back what formatUtc writes', () => {
  const random = seededRandom(2);
  for (let i = 0; i < 10_000; i++) {
    const time = Math.floor(random() * 4_102_444_800) * 1000;
    assert.equal(parseUtc(formatUtc(time)), time);
  }
});
