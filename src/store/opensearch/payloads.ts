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
import { ndjson } from './bulk-body';
import { itemFailure, type BulkItem, type Cluster } from './cluster';
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

/** One payload seen in one alert being stored. */
interface Sighting {
  readonly record: AlertRecord;
  readonly payload: PayloadSighting;
}

/** The write of one payload document: the version it was read at (none: created), and what it will hold. */
interface Entry {
  readonly id: string;
  readonly current: Current | undefined;
  source: PayloadSource;
  readonly sightings: Sighting[];
}

interface Plan {
  readonly entries: readonly Entry[];
  /** The `_bulk` lines writing the entries, in their order. */
  readonly lines: readonly string[];
}

/** A document written with `refused` sightings of alerts not created; `live` are the created alerts' sightings in it. */
interface Correction {
  readonly entry: Entry;
  readonly written: Current;
  readonly live: readonly Sighting[];
  readonly refused: number;
}

/** What the `_bulk` carrying the payload lines answered: its payload items in order, and the alerts it created. */
export interface SentAlerts {
  readonly items: readonly BulkItem[];
  readonly created: ReadonlySet<AlertRecord>;
}

/**
 * Counts the payload sightings of alerts as they are stored, one batch at a time per store: concurrent
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

  /** Documents deleted (retention): nothing known of them may be trusted. */
  forget(): void {
    this.known.clear();
    this.targetOfFuzzy.clear();
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

  /**
   * Counts the sightings of `records` in the `_bulk` that stores the alerts themselves, one
   * request for both. `send(lines)` sends the alerts' lines with these payload lines after them
   * and returns the payload items of the answer and the alerts it created.
   *
   * Why optimistic: counting after the alerts' answer costs every commit a second round trip and
   * fsync (a third of its time in bench:opensearch). The payload lines count every alert as if
   * it were created; a resent alert (409) or a refused one was counted once too often, and a
   * correction write puts the document back. The crash windows compared: counting after the
   * alerts' write, a crash between the two loses the counts of alerts that were stored (a resend
   * finds them present and does not count them); counting with them, a crash between the write
   * and its correction leaves a resent or refused alert counted. Both are off by the alerts of
   * one commit; the second only where a message was resent or refused in the same commit, the
   * first on every crash, so this one was chosen.
   */
  recordWith(records: readonly AlertRecord[], send: (lines: readonly string[]) => Promise<SentAlerts>): Promise<void> {
    if (!records.some((record) => record.payloads.length > 0)) return send([]).then(() => undefined);
    const turn = this.previous.then(() => this.recordAlong(records, send));
    this.previous = turn.catch(() => undefined);
    return turn;
  }

  private async recordAlong(records: readonly AlertRecord[], send: (lines: readonly string[]) => Promise<SentAlerts>): Promise<void> {
    const plan = await this.plan(records.flatMap((record) => record.payloads.map((payload) => ({ record, payload }))));
    const { items, created } = await send(plan.lines);
    const { retry, failed, corrections } = this.settle(plan.entries, items, created);
    // Counted again on a fresh read: the sightings of created alerts whose write conflicted
    // (another instance counted meanwhile) or failed, and those of documents a correction deleted.
    let pending: Sighting[] = [...retry, ...failed, ...await this.correct(corrections)];
    for (let round = 1; pending.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error(`payload store: ${pending.length} sightings still conflicting after ${MAX_ROUNDS} rounds`);
      await pause(Math.random() * RETRY_PAUSE_MS * round);
      pending = await this.recordRound(pending);
    }
  }

  /** One read-merge-write round; returns the sightings whose write met a conflict. */
  private async recordRound(sightings: readonly Sighting[]): Promise<Sighting[]> {
    const plan = await this.plan(sightings);
    const answer = await this.cluster.bulk('payloads', ndjson(plan.lines), this.refresh);
    const { retry, failed } = this.settle(plan.entries, answer.items.map((item) => Object.values(item)[0]!), undefined);
    if (failed.length > 0) throw failed[0]!.error;
    return retry;
  }

  /** Reads what the sightings count on and merges them: the write of each document they touch. */
  private async plan(sightings: readonly Sighting[]): Promise<Plan> {
    const index = this.index;
    // First by md5, then the documents that fuzzy hashes lead to. A payload whose fuzzy hash
    // leads to a document known here is not looked up by md5: a document of its own would exist
    // only if two instances had raced to create the first one of the hash.
    const found = await this.currentVersions(sightings.filter((r) => this.known.has(r.payload.md5)
      || r.payload.fuzzyHash === null || !this.knowsTargetOf(r.payload.fuzzyHash)).map((r) => r.payload.md5));
    const byFuzzy = await this.fuzzyTargets(sightings.filter((r) => !found.has(r.payload.md5) && r.payload.fuzzyHash !== null).map((r) => r.payload.fuzzyHash!));
    // Merge every sighting into the document it counts on (an existing one, or a new one).
    const merged = new Map<string, Entry>();
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
          ? counted(current.source, [sighting])
          // The bytes are read now (content() is valid only until the next payload's is read);
          // beyond the payload store's size cap only md5 and size are kept.
          : { md5: payload.md5, fuzzyHash: payload.fuzzyHash, mimeType: payload.mimeType, size: payload.size,
            bytes: payload.content?.().toString('base64') ?? '', count: 1, firstSeen: doc.recievedTime, lastSeen: doc.recievedTime,
            firstSourceIp: doc.sourceEntryIp, firstSourcePort: doc.sourceEntryPort, peerType: doc.peerType };
        merged.set(id, { id, current, source, sightings: [sighting] });
      } else {
        entry.source = counted(entry.source, [sighting]);
        entry.sightings.push(sighting);
      }
    }
    const entries = [...merged.values()];
    const lines: string[] = [];
    for (const { id, current, source } of entries) {
      const action = current === undefined
        ? { create: { _index: index, _id: id } }
        : { index: { _index: index, _id: id, if_seq_no: current.seqNo, if_primary_term: current.primaryTerm } };
      lines.push(JSON.stringify(action), JSON.stringify(source));
    }
    return { entries, lines };
  }

  /**
   * What the answer to a plan's writes leaves to do: sightings to count again (their write met a
   * conflict or failed), and documents written with sightings of alerts that were not created
   * (`created` given: only those alerts' sightings count).
   */
  private settle(entries: readonly Entry[], items: readonly BulkItem[], created: ReadonlySet<AlertRecord> | undefined):
    { retry: Sighting[]; failed: Array<Sighting & { error: Error }>; corrections: Correction[] } {
    const retry: Sighting[] = [];
    const failed: Array<Sighting & { error: Error }> = [];
    const corrections: Correction[] = [];
    entries.forEach((entry, i) => {
      const result = items[i]!;
      const { id, source } = entry;
      const live = created === undefined ? entry.sightings : entry.sightings.filter((s) => created.has(s.record));
      if (result.status === 200 || result.status === 201) {
        const written = { source, seqNo: result._seq_no!, primaryTerm: result._primary_term! };
        this.known.set(id, written);
        if (source.fuzzyHash !== null && source.fuzzyHash !== undefined && !this.targetOfFuzzy.has(source.fuzzyHash)) this.targetOfFuzzy.set(source.fuzzyHash, id);
        if (live.length < entry.sightings.length) corrections.push({ entry, written, live, refused: entry.sightings.length - live.length });
      } else {
        // Another writer changed it (or it is gone): read it again next time.
        this.known.delete(id);
        if (source.fuzzyHash !== null && source.fuzzyHash !== undefined) this.targetOfFuzzy.delete(source.fuzzyHash);
        if (result.status === 409) retry.push(...live);
        else {
          const error = new Error(`payload store: ${itemFailure(result)}`);
          failed.push(...live.map((s) => ({ ...s, error })));
        }
      }
    });
    return { retry, failed, corrections };
  }

  /**
   * Takes the sightings of alerts that were not created out of the documents just written. Each
   * is written back, guarded by the version just written: a document that existed as it was
   * plus the created alerts' sightings, one this write created is deleted and those sightings
   * are counted anew (the document may carry a refused alert's bytes and md5). Another instance
   * wrote in between: the count is lowered on its version instead (the first and last seen of a
   * refused alert may then stay). Returns the sightings to count anew.
   */
  private async correct(corrections: readonly Correction[]): Promise<Sighting[]> {
    if (corrections.length === 0) return [];
    const index = this.index;
    const lines: string[] = [];
    const fixed = corrections.map(({ entry: { id, current }, written, live }) => {
      const guard = { _index: index, _id: id, if_seq_no: written.seqNo, if_primary_term: written.primaryTerm };
      if (current === undefined) {
        lines.push(JSON.stringify({ delete: guard }));
        return undefined;
      }
      const source = counted(current.source, live);
      lines.push(JSON.stringify({ index: guard }), JSON.stringify(source));
      return source;
    });
    const answer = await this.cluster.bulk('payloads', ndjson(lines), this.refresh);
    const anew: Sighting[] = [];
    const lower: Correction[] = [];
    corrections.forEach((correction, i) => {
      const result = Object.values(answer.items[i]!)[0]!;
      const { id, source } = correction.entry;
      const restored = fixed[i];
      if (result.status === 200 || result.status === 201) {
        if (restored === undefined) {
          this.forgetDocument(id, source);
          anew.push(...correction.live);
        } else {
          this.known.set(id, { source: restored, seqNo: result._seq_no!, primaryTerm: result._primary_term! });
        }
      } else {
        this.forgetDocument(id, source);
        if (result.status === 409 || result.status === 404) lower.push(correction);
        else throw new Error(`payload store: correcting ${id}: ${itemFailure(result)}`);
      }
    });
    for (const correction of lower) await this.lowerCount(correction.entry.id, correction.refused);
    return anew;
  }

  /** Lowers a document's count by `by` on its current version (deleted at zero), guarded, rounds as counting. */
  private async lowerCount(id: string, by: number): Promise<void> {
    for (let round = 0; ; round++) {
      if (round === MAX_ROUNDS) throw new Error(`payload store: correcting ${id} still conflicting after ${MAX_ROUNDS} rounds`);
      if (round > 0) await pause(Math.random() * RETRY_PAUSE_MS * round);
      const current = (await this.currentVersions([id])).get(id);
      if (current === undefined) return; // gone (retention): nothing counted remains
      const guard = { _index: this.index, _id: id, if_seq_no: current.seqNo, if_primary_term: current.primaryTerm };
      const count = Number(current.source.count) - by;
      const source = { ...current.source, count };
      const lines = count > 0 ? [JSON.stringify({ index: guard }), JSON.stringify(source)] : [JSON.stringify({ delete: guard })];
      const result = Object.values((await this.cluster.bulk('payloads', ndjson(lines), this.refresh)).items[0]!)[0]!;
      if (result.status === 200 || result.status === 201) {
        if (count > 0) this.known.set(id, { source, seqNo: result._seq_no!, primaryTerm: result._primary_term! });
        else this.forgetDocument(id, source);
        return;
      }
      this.forgetDocument(id, source);
      if (result.status === 404) return;
      if (result.status !== 409) throw new Error(`payload store: correcting ${id}: ${itemFailure(result)}`);
    }
  }

  private forgetDocument(id: string, source: PayloadSource): void {
    this.known.delete(id);
    if (source.fuzzyHash !== null && source.fuzzyHash !== undefined && this.targetOfFuzzy.get(source.fuzzyHash) === id) this.targetOfFuzzy.delete(source.fuzzyHash);
  }
}

/** `source` with `sightings` counted: count, first and last seen. */
function counted(source: PayloadSource, sightings: readonly Sighting[]): PayloadSource {
  let { firstSeen, lastSeen } = source;
  for (const { record } of sightings) {
    firstSeen = minText(firstSeen, record.document.recievedTime);
    lastSeen = maxText(lastSeen, record.document.recievedTime);
  }
  return { ...source, count: Number(source.count) + sightings.length, firstSeen, lastSeen };
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
