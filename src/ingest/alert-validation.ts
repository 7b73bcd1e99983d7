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

const TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const TIMEZONE = /^([+-])(\d{2}):?(\d{2})$/;
/** Longest analyzer id we keep; ewsposter ids are short, anything longer is garbage. */
const MAX_ANALYZER_ID = 256;

export function validateAlert(raw: RawAlert): ValidationResult {
  if (raw.analyzerId === '' || raw.analyzerId.length > MAX_ANALYZER_ID) {
    return { ok: false, reason: 'missing or oversized Analyzer id' };
  }
  const peerType = classifyPeer(raw.analyzerId, raw.requests.get('description'));
  if (raw.createTime === undefined || raw.createTime === '') return { ok: false, reason: 'missing CreateTime' };
  // honeytrap stamps its alerts in UTC already, whatever tz it claims (CONTRACT section 2).
  const timezone = peerType === 'Network(honeytrap)' ? undefined : raw.timezone;
  if (timezoneOffsetMinutes(timezone) === null) return { ok: false, reason: 'invalid CreateTime tz' };
  const createTime = toUtc(raw.createTime, timezone);
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

/** `+HHMM` / `-HHMM` (or `+HH:MM`) in minutes east of UTC; 0 when absent; null when invalid. */
export function timezoneOffsetMinutes(timezone: string | undefined): number | null {
  const text = timezone?.trim() ?? '';
  if (text === '') return 0;
  const zone = TIMEZONE.exec(text);
  if (!zone) return null;
  const hours = Number(zone[2]);
  const minutes = Number(zone[3]);
  if (hours > 23 || minutes > 59) return null;
  return (zone[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * Local time plus `tz="+HHMM"` to UTC `YYYY-MM-DD HH:MM:SS`; null if either is invalid.
 * A missing tz means the time is UTC already.
 */
export function toUtc(local: string, timezone: string | undefined): string | null {
  const time = TIME.exec(local);
  if (!time) return null;
  const [year, month, day, hour, minute, second] = time.slice(1).map(Number) as [number, number, number, number, number, number];
  // Before 1970 is nonsense for an attack (and Date.UTC maps years below 100 to 19xx).
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const offsetMinutes = timezoneOffsetMinutes(timezone);
  if (offsetMinutes === null) return null;
  const localMs = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2017-02-30 over into March: refuse dates that do not exist.
  if (new Date(localMs).getUTCDate() !== day) return null;
  const utc = formatUtc(localMs - offsetMinutes * 60_000);
  // An offset can push 9999-12-31 past year 9999, which the stored format cannot hold.
  return utc.length === 19 ? utc : null;
}
