/**
 * Turns a RawAlert into a ParsedAlert, or says why the alert is skipped. One bad alert never
 * spoils the rest of its message.
 */
import type { Endpoint, ParsedAlert } from '../domain/alert';
import { classifyPeer } from '../enrich/classify';
import { parseAddress } from '../net/address';
import { formatUtc } from '../domain/time';
import type { RawAlert, RawEndpoint } from './ews-message';

export type ValidationResult =
  | { readonly ok: true; readonly alert: ParsedAlert; readonly peerType: string }
  | { readonly ok: false; readonly reason: string };

/** Longest analyzer id we keep; ewsposter ids are short, anything longer is garbage. */
const MAX_ANALYZER_ID = 256;

export function validateAlert(raw: RawAlert): ValidationResult {
  if (raw.analyzerId === '' || raw.analyzerId.length > MAX_ANALYZER_ID) {
    return { ok: false, reason: 'missing or oversized Analyzer id' };
  }
  const peerType = classifyPeer(raw.analyzerId, raw.requests.get('description'));
  if (raw.createTime === undefined || raw.createTime === '') return { ok: false, reason: 'missing CreateTime' };
  // honeytrap stamps its alerts in UTC already, whatever tz it claims (CONTRACT section 2).
  const offsetMinutes = peerType === 'Network(honeytrap)' ? 0 : timezoneOffsetMinutes(raw.timezone);
  if (offsetMinutes === null) return { ok: false, reason: 'invalid CreateTime tz' };
  const createTime = localToUtc(raw.createTime, offsetMinutes);
  if (createTime === null) return { ok: false, reason: 'invalid CreateTime' };
  const source = toEndpoint(raw.source);
  if (!source) return { ok: false, reason: 'invalid Source address' };
  const target = toEndpoint(raw.target);
  if (!target) return { ok: false, reason: 'invalid Target address' };
  return {
    ok: true,
    peerType,
    alert: {
      analyzerId: raw.analyzerId,
      createTime,
      source,
      target,
      requests: raw.requests,
      additional: raw.additional,
      sample: raw.sample,
    },
  };
}

function toEndpoint(raw: RawEndpoint | undefined): Endpoint | null {
  if (!raw) return null;
  const address = parseAddress(raw.address);
  if (!address) return null;
  return { address, port: raw.port, protocol: raw.protocol };
}

/*
 * Times and zones are read character by character, not by regular expressions and Date: this
 * runs for every alert, and bench:opensearch's server profile had toUtc, timezoneOffsetMinutes
 * and formatUtc at about 3 % of the server's CPU in the ingest phase (2.5 µs an alert of ~86).
 * test/alert-time.test.ts compares them with the straightforward regex-and-Date versions.
 */

/** `+HHMM` / `-HHMM` (or `+HH:MM`) in minutes east of UTC; 0 when absent; null when invalid. */
export function timezoneOffsetMinutes(timezone: string | undefined): number | null {
  const text = timezone?.trim() ?? '';
  if (text === '') return 0;
  const sign = text.charCodeAt(0);
  if (sign !== 0x2b /* + */ && sign !== 0x2d /* - */) return null;
  // `+HHMM` or `+HH:MM`, nothing else.
  const minutesAt = text.length === 5 ? 3 : text.length === 6 && text.charCodeAt(3) === 0x3a /* : */ ? 4 : -1;
  if (minutesAt < 0) return null;
  const hours = twoDigits(text, 1);
  const minutes = twoDigits(text, minutesAt);
  if (hours < 0 || minutes < 0 || hours > 23 || minutes > 59) return null;
  return (sign === 0x2d ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * Local time plus `tz="+HHMM"` to UTC `YYYY-MM-DD HH:MM:SS`; null if either is invalid.
 * A missing tz means the time is UTC already.
 */
export function toUtc(local: string, timezone: string | undefined): string | null {
  const offsetMinutes = timezoneOffsetMinutes(timezone);
  return offsetMinutes === null ? null : localToUtc(local, offsetMinutes);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/** `YYYY-MM-DD HH:MM:SS` (or with `T`) at `offsetMinutes` east of UTC, as UTC; null if invalid. */
function localToUtc(local: string, offsetMinutes: number): string | null {
  if (local.length !== 19 || local.charCodeAt(4) !== 0x2d || local.charCodeAt(7) !== 0x2d || local.charCodeAt(13) !== 0x3a || local.charCodeAt(16) !== 0x3a) return null;
  const separator = local.charCodeAt(10);
  if (separator !== 0x20 && separator !== 0x54 /* T */) return null;
  const century = twoDigits(local, 0);
  const yearInCentury = twoDigits(local, 2);
  const month = twoDigits(local, 5);
  const day = twoDigits(local, 8);
  const hour = twoDigits(local, 11);
  const minute = twoDigits(local, 14);
  const second = twoDigits(local, 17);
  if (century < 0 || yearInCentury < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return null;
  const year = century * 100 + yearInCentury;
  // Before 1970 is nonsense for an attack (and Date.UTC maps years below 100 to 19xx).
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  // Refuse dates that do not exist (2017-02-30).
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return null;
  const utcMinuteOfDay = hour * 60 + minute - offsetMinutes;
  if (utcMinuteOfDay >= 0 && utcMinuteOfDay < 1440) {
    // The same day in UTC (nearly always): only the hour and minute change; the digits are ASCII.
    return `${local.slice(0, 10)} ${PAD2[Math.floor(utcMinuteOfDay / 60)]!}:${PAD2[utcMinuteOfDay % 60]!}${local.slice(16)}`;
  }
  const utc = formatUtc(Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000);
  // An offset can push 9999-12-31 past year 9999, which the stored format cannot hold.
  return utc.length === 19 ? utc : null;
}

/** The number written by the two ASCII digits at `at`, or -1. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 0x30;
  const ones = text.charCodeAt(at + 1) - 0x30;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}
