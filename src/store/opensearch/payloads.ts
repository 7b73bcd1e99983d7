/**
 * The payload store on OpenSearch: one document per payload, id = md5, de-duplicated by md5 and
 * by the fuzzy HTTP hash, with sightings counted. Without scripts (Elasticsearch 7 assembled
 * without painless has none) a count is a read-modify-write guarded by the document's sequence
 * number; a conflict (another instance counted meanwhile) reads again. Within one process the
 * bookkeeping of concurrent batches runs one after the other (`PayloadBookkeeping`), so only
 * other instances can conflict, and a conflict is retried after a random pause.
 */
import { setTimeout as pause } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
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

/** Rounds before giving up: each round some writer wins, so this bounds the instances racing on one payload. */
const MAX_ROUNDS = 20;
/** Longest pause before a retry round, ms, times the round: spreads instances that met on one document. */
const RETRY_PAUSE_MS = 5;
/** The versions this process wrote last, kept up to this many bytes of payload (base64) in all. */
const KNOWN_BYTES = 64 * 1024 * 1024;
const KNOWN_DOCUMENTS = 100_000;

/** One payload seen in one newly stored alert. */
interface Sighting {
  readonly record: AlertRecord;
  readonly payload: PayloadSighting;
}

/**
 * Counts the payload sightings of newly stored alerts, one batch at a time per store: concurrent
 * batches of one process counting the same payload would otherwise each need a round per rival.
 *
 * The version this process wrote last of each document (and which document a fuzzy hash leads
 * to) is kept: the next sighting writes on it guarded by its sequence number without reading it
 * again. A real-time read of a document changed since the last refresh makes the node refresh
 * the index, and counting the same payloads over and over did that for every batch. Another
 * instance's write in between makes the guarded write conflict; the document is forgotten and
 * read again in the next round, as before.
 */
export class PayloadBookkeeping {
  private previous: Promise<void> = Promise.resolve();
  private readonly known = new LRUCache<string, Current>({
    max: KNOWN_DOCUMENTS, maxSize: KNOWN_BYTES, sizeCalculation: (current) => Math.max(1, current.source.bytes.length),
  });
  private readonly targetOfFuzzy = new LRUCache<string, string>({ max: KNOWN_DOCUMENTS });

  constructor(private readonly cluster: Cluster, private readonly index: string, private readonly refresh: string) {}

  /** Throws when a write keeps failing; the next batch runs anyway. */
  record(records: readonly AlertRecord[]): Promise<void> {
    if (!records.some((record) => record.payloads.length > 0)) return Promise.resolve();
    const turn = this.previous.then(() => this.recordPayloads(records));
    this.previous = turn.catch(() => undefined);
    return turn;
  }

  /** Documents deleted (retention): nothing known of them may be trusted. */
  forget(): void {
    this.known.clear();
    this.targetOfFuzzy.clear();
  }

  private async recordPayloads(records: readonly AlertRecord[]): Promise<void> {
    let pending: Sighting[] = records.flatMap((record) => record.payloads.map((payload) => ({ record, payload })));
    for (let round = 0; pending.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error(`payload store: ${pending.length} sightings still conflicting after ${MAX_ROUNDS} rounds`);
      if (round > 0) await pause(Math.random() * RETRY_PAUSE_MS * round);
      pending = await this.recordRound(pending);
    }
  }

  /** Current versions by id: what this process wrote last, else read in real time (a search may show a stale `_seq_no`). */
  private async currentVersions(ids: readonly string[]): Promise<Map<string, Current>> {
    const found = new Map<string, Current>();
    const unknown: string[] = [];
    for (const id of new Set(ids)) {
      const current = this.known.get(id);
      if (current !== undefined) found.set(id, current);
      else unknown.push(id);
    }
    if (unknown.length === 0) return found;
    const got = await this.cluster.request<MgetAnswer>('POST', `/${this.index}/_mget?realtime=true`, { ids: unknown });
    for (const doc of got.body.docs) {
      if (doc.found && doc._source) found.set(doc._id, { source: doc._source, seqNo: doc._seq_no!, primaryTerm: doc._primary_term! });
    }
    return found;
  }

  private knowsTargetOf(fuzzyHash: string): boolean {
    const id = this.targetOfFuzzy.get(fuzzyHash);
    return id !== undefined && this.known.has(id);
  }

  /** The document each fuzzy hash counts on: the first seen of its hash. */
  private async fuzzyTargets(fuzzyHashes: readonly string[]): Promise<Map<string, Current>> {
    const byFuzzy = new Map<string, Current>();
    const firstByFuzzy = new Map<string, string>();
    const unknown: string[] = [];
    for (const hash of new Set(fuzzyHashes)) {
      const id = this.targetOfFuzzy.get(hash);
      if (id !== undefined) firstByFuzzy.set(hash, id);
      else unknown.push(hash);
    }
    if (unknown.length > 0) {
      const hits = await searchHits<PayloadSource>(this.cluster, this.index, { size: 10_000, query: { terms: { fuzzyHash: unknown } }, sort: [{ firstSeen: 'asc' }] });
      for (const hit of hits) if (!firstByFuzzy.has(hit._source.fuzzyHash!)) firstByFuzzy.set(hit._source.fuzzyHash!, hit._id);
    }
    if (firstByFuzzy.size === 0) return byFuzzy;
    const targets = await this.currentVersions([...firstByFuzzy.values()]);
    for (const [hash, id] of firstByFuzzy) {
      const current = targets.get(id);
      if (current !== undefined) byFuzzy.set(hash, current);
      else this.targetOfFuzzy.delete(hash);
    }
    return byFuzzy;
  }

  /** One read-merge-write round; returns the sightings whose write met a conflict. */
  private async recordRound(sightings: readonly Sighting[]): Promise<Sighting[]> {
    const index = this.index;
    // First by md5, then the documents that fuzzy hashes lead to. A payload whose fuzzy hash
    // leads to a document known here is not looked up by md5: a document of its own would exist
    // only if two instances had raced to create the first one of the hash.
    const found = await this.currentVersions(sightings.filter((r) => this.known.has(r.payload.md5)
      || r.payload.fuzzyHash === null || !this.knowsTargetOf(r.payload.fuzzyHash)).map((r) => r.payload.md5));
    const byFuzzy = await this.fuzzyTargets(sightings.filter((r) => !found.has(r.payload.md5) && r.payload.fuzzyHash !== null).map((r) => r.payload.fuzzyHash!));
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
    const answer = await this.cluster.bulk('payloads', lines, this.refresh);
    const retry: Sighting[] = [];
    let failure: Error | undefined;
    answer.items.forEach((item, i) => {
      const result = Object.values(item)[0]!;
      const [id, { source, sightings: counted }] = entries[i]!;
      if (result.status === 200 || result.status === 201) {
        this.known.set(id, { source, seqNo: result._seq_no!, primaryTerm: result._primary_term! });
        if (source.fuzzyHash !== null && source.fuzzyHash !== undefined && !this.targetOfFuzzy.has(source.fuzzyHash)) this.targetOfFuzzy.set(source.fuzzyHash, id);
      } else {
        // Another writer changed it (or it is gone): read it again next time.
        this.known.delete(id);
        if (source.fuzzyHash !== null && source.fuzzyHash !== undefined) this.targetOfFuzzy.delete(source.fuzzyHash);
        if (result.status === 409) retry.push(...counted);
        else failure ??= new Error(`payload store: ${result.error?.type ?? result.status}: ${result.error?.reason ?? ''}`);
      }
    });
    if (failure !== undefined) throw failure;
    return retry;
  }
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
