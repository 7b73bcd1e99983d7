/**
 * The payload store on OpenSearch: one document per payload, id = md5, de-duplicated by md5 and
 * by the fuzzy HTTP hash, with sightings counted. Without scripts (Elasticsearch 7 assembled
 * without painless has none) a count is a read-modify-write guarded by the document's sequence
 * number; a conflict (another instance counted meanwhile) reads again. Within one process the
 * bookkeeping of concurrent batches runs one after the other (`PayloadBookkeeping`), so only
 * other instances can conflict, and a conflict is retried after a random pause.
 */
import { setTimeout as pause } from 'node:timers/promises';
import type { AlertRecord, PayloadSighting } from '../../domain/alert';
import type { PayloadRecord } from '../store';
import type { Cluster } from './cluster';
import { searchHits } from './search';

export interface PayloadSource {
  md5: string;
  fuzzyHash: string | null;
  mimeType: string;
  size: number;
  bytes: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  firstSourceIp: string;
  firstSourcePort: string;
  peerType: string;
}

export function toPayloadRecord(source: PayloadSource): PayloadRecord {
  return {
    md5: source.md5, fuzzyHash: source.fuzzyHash ?? null, mimeType: source.mimeType, size: Number(source.size),
    bytes: Buffer.from(source.bytes ?? '', 'base64'), count: Number(source.count), firstSeen: source.firstSeen,
    lastSeen: source.lastSeen, firstSourceIp: source.firstSourceIp, firstSourcePort: source.firstSourcePort, peerType: source.peerType,
  };
}

interface Current {
  readonly source: PayloadSource;
  readonly seqNo: number;
  readonly primaryTerm: number;
}

interface MgetAnswer {
  docs: Array<{ _id: string; found: boolean; _source?: PayloadSource; _seq_no?: number; _primary_term?: number }>;
}

interface BulkAnswer {
  errors: boolean;
  items: Array<Record<string, { status: number; error?: { type: string; reason: string } }>>;
}

/** Rounds before giving up: each round some writer wins, so this bounds the instances racing on one payload. */
const MAX_ROUNDS = 20;
/** Longest pause before a retry round, ms, times the round: spreads instances that met on one document. */
const RETRY_PAUSE_MS = 5;

/** One payload seen in one newly stored alert. */
interface Sighting {
  readonly record: AlertRecord;
  readonly payload: PayloadSighting;
}

/**
 * Counts the payload sightings of newly stored alerts, one batch at a time per store: concurrent
 * batches of one process counting the same payload would otherwise each need a round per rival.
 */
export class PayloadBookkeeping {
  private previous: Promise<void> = Promise.resolve();

  constructor(private readonly cluster: Cluster, private readonly index: string, private readonly refresh: string) {}

  /** Throws when a write keeps failing; the next batch runs anyway. */
  record(records: readonly AlertRecord[]): Promise<void> {
    if (!records.some((record) => record.payloads.length > 0)) return Promise.resolve();
    const turn = this.previous.then(() => recordPayloads(this.cluster, this.index, records, this.refresh));
    this.previous = turn.catch(() => undefined);
    return turn;
  }
}

async function recordPayloads(cluster: Cluster, index: string, records: readonly AlertRecord[], refresh: string): Promise<void> {
  let pending: Sighting[] = records.flatMap((record) => record.payloads.map((payload) => ({ record, payload })));
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) throw new Error(`payload store: ${pending.length} sightings still conflicting after ${MAX_ROUNDS} rounds`);
    if (round > 0) await pause(Math.random() * RETRY_PAUSE_MS * round);
    pending = await recordRound(cluster, index, pending, refresh);
  }
}

async function currentVersions(cluster: Cluster, index: string, ids: readonly string[]): Promise<Map<string, Current>> {
  const found = new Map<string, Current>();
  if (ids.length === 0) return found;
  const got = await cluster.request<MgetAnswer>('POST', `/${index}/_mget?realtime=true`, { ids: [...new Set(ids)] });
  for (const doc of got.body.docs) {
    if (doc.found && doc._source) found.set(doc._id, { source: doc._source, seqNo: doc._seq_no!, primaryTerm: doc._primary_term! });
  }
  return found;
}

/** One read-merge-write round; returns the sightings whose write met a conflict. */
async function recordRound(cluster: Cluster, index: string, sightings: readonly Sighting[], refresh: string): Promise<Sighting[]> {
  // Current versions are read in real time (a search sees the last refresh, and its sequence
  // numbers may be stale): first by md5, then the documents that fuzzy hashes lead to.
  const found = await currentVersions(cluster, index, sightings.map((r) => r.payload.md5));
  const fuzzy = [...new Set(sightings.filter((r) => !found.has(r.payload.md5) && r.payload.fuzzyHash !== null).map((r) => r.payload.fuzzyHash!))];
  const byFuzzy = new Map<string, Current>();
  if (fuzzy.length > 0) {
    const hits = await searchHits<PayloadSource>(cluster, index, { size: 10_000, query: { terms: { fuzzyHash: fuzzy } }, sort: [{ firstSeen: 'asc' }] });
    const firstByFuzzy = new Map<string, string>();
    for (const hit of hits) if (!firstByFuzzy.has(hit._source.fuzzyHash!)) firstByFuzzy.set(hit._source.fuzzyHash!, hit._id);
    const targets = await currentVersions(cluster, index, [...firstByFuzzy.values()]);
    for (const [hash, id] of firstByFuzzy) {
      const current = targets.get(id);
      if (current !== undefined) byFuzzy.set(hash, current);
    }
  }
  // Merge every sighting into the document it counts on (an existing one, or a new one).
  const merged = new Map<string, { current: Current | undefined; source: PayloadSource; sightings: Sighting[] }>();
  /** Fuzzy hashes of the documents this round creates: a later sighting in the batch counts on them. */
  const createdByFuzzy = new Map<string, string>();
  for (const sighting of sightings) {
    const { payload, record } = sighting;
    const doc = record.document;
    const current = found.get(payload.md5) ?? (payload.fuzzyHash !== null ? byFuzzy.get(payload.fuzzyHash) : undefined);
    const id = current?.source.md5
      ?? (merged.has(payload.md5) ? payload.md5 : (payload.fuzzyHash !== null ? createdByFuzzy.get(payload.fuzzyHash) : undefined))
      ?? payload.md5;
    if (current === undefined && payload.fuzzyHash !== null && !createdByFuzzy.has(payload.fuzzyHash)) createdByFuzzy.set(payload.fuzzyHash, id);
    const entry = merged.get(id);
    if (entry === undefined) {
      const source: PayloadSource = current !== undefined
        ? { ...current.source, count: Number(current.source.count) + 1,
          lastSeen: maxText(current.source.lastSeen, doc.recievedTime), firstSeen: minText(current.source.firstSeen, doc.recievedTime) }
        // The bytes are read now (content() is valid only until the next payload's is read);
        // beyond the payload store's size cap only md5 and size are kept.
        : { md5: payload.md5, fuzzyHash: payload.fuzzyHash, mimeType: payload.mimeType, size: payload.size,
          bytes: payload.content?.().toString('base64') ?? '', count: 1, firstSeen: doc.recievedTime, lastSeen: doc.recievedTime,
          firstSourceIp: doc.sourceEntryIp, firstSourcePort: doc.sourceEntryPort, peerType: doc.peerType };
      merged.set(id, { current, source, sightings: [sighting] });
    } else {
      entry.source.count = Number(entry.source.count) + 1;
      entry.source.lastSeen = maxText(entry.source.lastSeen, doc.recievedTime);
      entry.source.firstSeen = minText(entry.source.firstSeen, doc.recievedTime);
      entry.sightings.push(sighting);
    }
  }
  const entries = [...merged.entries()];
  const lines: string[] = [];
  for (const [id, { current, source }] of entries) {
    const action = current === undefined
      ? { create: { _index: index, _id: id } }
      : { index: { _index: index, _id: id, if_seq_no: current.seqNo, if_primary_term: current.primaryTerm } };
    lines.push(JSON.stringify(action), JSON.stringify(source));
  }
  const answer = await cluster.request<BulkAnswer>('POST', `/_bulk?refresh=${refresh}`, undefined, { ndjson: `${lines.join('\n')}\n` });
  const retry: Sighting[] = [];
  answer.body.items.forEach((item, i) => {
    const result = Object.values(item)[0]!;
    if (result.status === 409) retry.push(...entries[i]![1].sightings);
    else if (result.status >= 300) throw new Error(`payload store: ${result.error?.type ?? result.status}: ${result.error?.reason ?? ''}`);
  });
  return retry;
}

function maxText(a: string, b: string): string {
  return a > b ? a : b;
}

function minText(a: string, b: string): string {
  return a < b ? a : b;
}

export async function getPayloadDocument(cluster: Cluster, index: string, md5: string): Promise<PayloadRecord | undefined> {
  const answer = await cluster.request<{ found?: boolean; _source?: PayloadSource }>('GET', `/${index}/_doc/${encodeURIComponent(md5)}`, undefined, { accept: [404] });
  return answer.body.found === true && answer.body._source ? toPayloadRecord(answer.body._source) : undefined;
}

export async function payloadsByFuzzyHash(cluster: Cluster, index: string, fuzzyHash: string): Promise<PayloadRecord[]> {
  const hits = await searchHits<PayloadSource>(cluster, index, { size: 1000, query: { term: { fuzzyHash } }, sort: [{ firstSeen: 'asc' }] });
  return hits.map((h) => toPayloadRecord(h._source));
}
