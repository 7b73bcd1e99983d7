/**
 * The non-alert lines of an export: users and statistics snapshots, as an Elasticsearch dump
 * (elasticdump, a scroll) of the original's `USERINDEX` and `STATISTICINDEX` writes them:
 * `{"_index": USERINDEX, "_id", "_source": {peerName, token, community, getOnly, email}}` and
 * `{"_index": STATISTICINDEX, "_id", "_source": {UTCtimeFrom, UTCtimeTo, <figure>: number...}}`.
 */
import type { StatisticsSnapshot } from '../domain/query';
import { isObject } from './alert-import';
import type { UserRecord } from '../store/store';

export type SideDocument =
  | { readonly ok: true; readonly kind: 'user'; readonly user: UserRecord }
  | { readonly ok: true; readonly kind: 'snapshot'; readonly snapshot: StatisticsSnapshot }
  | { readonly ok: false; readonly reason: string };

/** The index names that mark a line as a user or a snapshot (the importing config's). */
export interface SideIndices {
  readonly users: string;
  readonly statistics: string;
}

/** sha512 hex, or the legacy md5 hex: a stored hash, never a clear token. */
const TOKEN_HASH = /^(?:[0-9a-f]{128}|[0-9a-f]{32})$/i;
const UTC_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The kind of a parsed line by its `_index`: undefined for an alert (or a bare document). */
export function sideKind(value: unknown, indices: SideIndices): 'user' | 'snapshot' | undefined {
  if (!isObject(value) || typeof value['_index'] !== 'string') return undefined;
  if (value['_index'] === indices.users) return 'user';
  if (value['_index'] === indices.statistics) return 'snapshot';
  return undefined;
}

export function importSideDocument(value: Record<string, unknown>, kind: 'user' | 'snapshot'): SideDocument {
  const source = value['_source'];
  if (!isObject(source)) return { ok: false, reason: '_source is not a JSON object' };
  return kind === 'user' ? importUser(source) : importSnapshot(source);
}

function importUser(source: Record<string, unknown>): SideDocument {
  const { peerName, token, email } = source;
  if (typeof peerName !== 'string' || peerName === '') return { ok: false, reason: 'user without peerName' };
  if (typeof token !== 'string' || !TOKEN_HASH.test(token)) return { ok: false, reason: `user ${peerName}: token is not a sha512 or md5 hex hash` };
  const community = flag(source['community']);
  const getOnly = flag(source['getOnly']);
  if (community === undefined || getOnly === undefined) return { ok: false, reason: `user ${peerName}: community and getOnly must be booleans` };
  if (email !== undefined && email !== null && typeof email !== 'string') return { ok: false, reason: `user ${peerName}: email is not a text` };
  return { ok: true, kind: 'user', user: { peerName, tokenHash: token.toLowerCase(), community, getOnly, email: email ?? '' } };
}

function importSnapshot(source: Record<string, unknown>): SideDocument {
  const { UTCtimeFrom: from, UTCtimeTo: to } = source;
  if (typeof from !== 'string' || !UTC_TEXT.test(from) || typeof to !== 'string' || !UTC_TEXT.test(to)) {
    return { ok: false, reason: 'statistics snapshot without UTCtimeFrom/UTCtimeTo as YYYY-MM-DD HH:MM:SS' };
  }
  const values: Record<string, number> = {};
  for (const [key, figure] of Object.entries(source)) if (typeof figure === 'number' && Number.isFinite(figure)) values[key] = figure;
  return { ok: true, kind: 'snapshot', snapshot: { from, to, values } };
}

/** A boolean as the original's mapping stores it; dynamically mapped clusters may hold text. */
function flag(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return undefined;
}

/** One export line of a user: its hash, never a clear token. */
export function userLine(index: string, user: UserRecord): string {
  const source = { peerName: user.peerName, token: user.tokenHash, community: user.community, getOnly: user.getOnly, email: user.email };
  return `${JSON.stringify({ _index: index, _id: user.peerName, _source: source })}\n`;
}

export function snapshotLine(index: string, snapshot: StatisticsSnapshot): string {
  return `${JSON.stringify({ _index: index, _id: snapshot.from, _source: { UTCtimeFrom: snapshot.from, UTCtimeTo: snapshot.to, ...snapshot.values } })}\n`;
}

export function sameUser(a: UserRecord, b: UserRecord): boolean {
  return a.peerName === b.peerName && a.tokenHash.toLowerCase() === b.tokenHash.toLowerCase() && a.community === b.community &&
    a.getOnly === b.getOnly && a.email === b.email;
}
