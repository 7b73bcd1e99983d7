/** Stored times are UTC text `YYYY-MM-DD HH:MM:SS`, the format of existing indices. */

const DAY_MS = 86_400_000;
/** 10000-01-01 00:00:00 UTC: from here on (and before 1970) the slower Date formatting writes what it writes. */
const YEAR_10000_MS = 253_402_300_800_000;

const twoDigits = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * Epoch milliseconds to `YYYY-MM-DD HH:MM:SS` (UTC).
 *
 * Why arithmetic and not `Date#toISOString` sliced: it runs for every alert received (its
 * CreateTime), 1.5 % of the server's CPU in `bench:opensearch`; this is about 4 times faster in
 * a micro-benchmark (140 vs 510 ns). The day count becomes a civil date by the proleptic
 * Gregorian algorithm of H. Hinnant's "chrono-compatible low-level date algorithms".
 */
export function formatUtc(epochMs: number): string {
  if (!(epochMs >= 0 && epochMs < YEAR_10000_MS)) return formatUtcByDate(epochMs);
  const days = Math.floor(epochMs / DAY_MS);
  const seconds = Math.floor((epochMs - days * DAY_MS) / 1000);
  // Days since 0000-03-01, in 400-year eras of 146097 days (March first: leap days end a year).
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${twoDigits(month)}-${twoDigits(day)} ${twoDigits(Math.floor(seconds / 3600))}:${twoDigits(Math.floor(seconds / 60) % 60)}:${twoDigits(seconds % 60)}`;
}

/** The ISO text of a Date, sliced (RangeError for an invalid time): the rare times outside the fast path. */
function formatUtcByDate(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** `YYYY-MM-DD HH:MM:SS` (UTC) to epoch milliseconds, NaN when malformed. */
export function parseUtc(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}
