/**
 * toUtc and timezoneOffsetMinutes read characters by hand (a hot path of ingest); here they must
 * agree, byte for byte, with the straightforward regex-and-Date versions below on the edges of
 * every field and on a hundred thousand random and mutated inputs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatUtc } from '../src/domain/time';
import { timezoneOffsetMinutes, toUtc } from '../src/ingest/alert-validation';
import { seededRandom } from './helpers';

function straightOffset(timezone: string | undefined): number | null {
  const text = timezone?.trim() ?? '';
  if (text === '') return 0;
  const zone = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!zone || Number(zone[2]) > 23 || Number(zone[3]) > 59) return null;
  return (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3]));
}

function straightUtc(local: string, timezone: string | undefined): string | null {
  const time = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(local);
  const offset = straightOffset(timezone);
  if (!time || offset === null) return null;
  const [y, mo, d, h, mi, s] = time.slice(1).map(Number) as [number, number, number, number, number, number];
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(ms).getUTCDate() !== d) return null;
  const utc = formatUtc(ms - offset * 60_000);
  return utc.length === 19 ? utc : null;
}

const ZONES = [undefined, '', ' ', '+0000', '-0000', '+0100', '-0500', '+05:30', '-05:30', '+2359', '-2359', '+2400', '+0060', '+1260',
  '0100', '+01', '+010', '+01000', '+01:0', '+0:100', 'Z', ' +0200 ', '\t-0300\n', '\u00a0+0100', '+０１00', '+01-00', '++0100', '+-100', '+1e00', '+ 100'];
const EDGES = ['1970-01-01 00:00:00', '1969-12-31 23:59:59', '9999-12-31 23:59:59', '9999-12-31 00:00:00', '2024-02-29 00:00:00',
  '2023-02-29 00:00:00', '2000-02-29 23:59:59', '1900-02-28 00:00:00', '2100-02-29 00:00:00', '2026-04-31 12:00:00', '2026-04-30 23:30:00',
  '2026-12-31T23:59:59', '2026-01-01T00:00:00', '2026-00-01 00:00:00', '2026-01-00 00:00:00', '2026-1-01 00:00:00', '2026-01-01 00:00:0',
  '2026-01-01 00:00:00 ', ' 2026-01-01 00:00:00', '2026-01-01\t00:00:00', '2026/01/01 00:00:00', '2026-01-01 00-00-00', '', '１９７０-01-01 00:00:00'];

describe('toUtc and timezoneOffsetMinutes: the same as the straightforward versions', () => {
  it('on the edges of every field, with every zone', () => {
    for (const local of EDGES) {
      for (const zone of ZONES) {
        assert.equal(toUtc(local, zone), straightUtc(local, zone), `${local} ${zone}`);
      }
    }
    for (const zone of ZONES) assert.ok(Object.is(timezoneOffsetMinutes(zone), straightOffset(zone)), String(zone));
  });

  it('on random valid times, random zones, and their one-character mutations', () => {
    const r = seededRandom(42);
    const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
    const alphabet = '0123456789 -:T+Z\u00a0٣';
    let valid = 0;
    for (let i = 0; i < 100_000; i++) {
      const year = 1960 + Math.floor(r() * 8050);
      let local = `${pad(year, 4)}-${pad(1 + Math.floor(r() * 12))}-${pad(1 + Math.floor(r() * 31))}${r() < 0.8 ? ' ' : 'T'}` +
        `${pad(Math.floor(r() * 24))}:${pad(Math.floor(r() * 60))}:${pad(Math.floor(r() * 60))}`;
      const sign = r() < 0.5 ? '-' : '+';
      let zone: string | undefined = r() < 0.1 ? undefined : `${sign}${pad(Math.floor(r() * 26))}${r() < 0.3 ? ':' : ''}${pad(Math.floor(r() * 62))}`;
      if (r() < 0.2) {
        const at = Math.floor(r() * local.length);
        local = local.slice(0, at) + alphabet[Math.floor(r() * alphabet.length)] + local.slice(at + (r() < 0.7 ? 1 : 0));
      }
      if (zone !== undefined && r() < 0.1) {
        const at = Math.floor(r() * zone.length);
        zone = zone.slice(0, at) + alphabet[Math.floor(r() * alphabet.length)] + zone.slice(at + 1);
      }
      const want = straightUtc(local, zone);
      if (want !== null) valid++;
      assert.equal(toUtc(local, zone), want, `${local} ${zone}`);
      assert.ok(Object.is(timezoneOffsetMinutes(zone), straightOffset(zone)), String(zone));
    }
    assert.ok(valid > 30_000, `${valid} valid inputs among the random ones`);
  });
});
