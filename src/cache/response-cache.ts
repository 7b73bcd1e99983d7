/**
 * Cached answers of the public GET endpoints, so a dashboard polled by thousands of browsers
 * costs the store one query per lifetime:
 * - single flight: concurrent misses for one key share one computation;
 * - stale while revalidate: an expired answer is still served (for `staleSeconds`) while one
 *   refresh runs, so a popular URL never stalls;
 * - two levels: this process's LRU in front of the shared store (memcached), so a hit costs a
 *   map lookup and every instance sees what any instance computed.
 */
import type { CacheStore } from './cache-store';
import { MemoryCache } from './memory-cache';

export interface CachedAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

export type CacheOutcome = 'hit' | 'stale' | 'miss';

interface Envelope {
  readonly answer: CachedAnswer;
  /** Epoch ms until which the answer is fresh. */
  readonly freshUntil: number;
}

export interface ResponseCacheOptions {
  /** The shared level (memcached); null keeps answers in this process only. */
  readonly shared: CacheStore | null;
  /** How long past its lifetime an answer may still be served while it is refreshed. */
  readonly staleSeconds: number;
  /** Told after each computation of an answer (metrics). */
  readonly onComputed?: (ok: boolean) => void;
}

export class ResponseCache {
  private readonly local = new MemoryCache(20_000, 64 * 1024 * 1024);
  private readonly inflight = new Map<string, Promise<Envelope>>();
  /** Entries are kept as bytes (their size bounds the LRU); this holds them decoded. */
  private readonly decoded = new WeakMap<Buffer, Envelope>();
  /** Told when a background refresh fails (the stale answer keeps being served meanwhile). */
  onRefreshError: (key: string, error: unknown) => void = () => {};

  constructor(private readonly options: ResponseCacheOptions) {}

  get shared(): CacheStore | null {
    return this.options.shared;
  }

  /** The answer if this process holds it fresh, synchronously: the cheapest possible hit. */
  freshAnswer(key: string): CachedAnswer | undefined {
    const envelope = this.fromLocal(key);
    return envelope && envelope.freshUntil > Date.now() ? envelope.answer : undefined;
  }

  async answer(key: string, ttlSeconds: number, compute: () => Promise<CachedAnswer>): Promise<{ answer: CachedAnswer; outcome: CacheOutcome }> {
    let envelope = this.fromLocal(key);
    if (envelope && envelope.freshUntil > Date.now()) return { answer: envelope.answer, outcome: 'hit' };
    // Locally missing or stale: another instance may have refreshed the shared level already.
    const shared = this.options.shared;
    if (shared) {
      const raw = await shared.get(key);
      // While we waited, a computation here may have started or even finished: join it.
      const running = this.inflight.get(key);
      if (running && !envelope) return { answer: (await running).answer, outcome: 'miss' };
      const meanwhile = this.fromLocal(key);
      if (meanwhile && meanwhile.freshUntil > Date.now()) return { answer: meanwhile.answer, outcome: 'hit' };
      const sharedEnvelope = decode(raw);
      if (raw && sharedEnvelope && (!envelope || sharedEnvelope.freshUntil > envelope.freshUntil)) {
        envelope = sharedEnvelope;
        this.putLocal(key, raw, sharedEnvelope);
      }
    }
    if (envelope) {
      if (envelope.freshUntil > Date.now()) return { answer: envelope.answer, outcome: 'hit' };
      this.refresh(key, ttlSeconds, compute).catch((error: unknown) => this.onRefreshError(key, error));
      return { answer: envelope.answer, outcome: 'stale' };
    }
    return { answer: (await this.refresh(key, ttlSeconds, compute)).answer, outcome: 'miss' };
  }

  /** One computation per key at a time; its result goes to both levels. */
  private refresh(key: string, ttlSeconds: number, compute: () => Promise<CachedAnswer>): Promise<Envelope> {
    const running = this.inflight.get(key);
    if (running) return running;
    const refresh = (async () => {
      let answer: CachedAnswer;
      try {
        answer = await compute();
      } catch (error) {
        this.options.onComputed?.(false);
        throw error;
      }
      this.options.onComputed?.(true);
      const envelope: Envelope = { answer, freshUntil: Date.now() + ttlSeconds * 1000 };
      const raw = Buffer.from(JSON.stringify(envelope));
      this.putLocal(key, raw, envelope);
      // Not awaited: the asker should not wait for memcached (its failures are handled there).
      void this.options.shared?.set(key, raw, this.lifetimeSeconds(envelope));
      return envelope;
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, refresh);
    return refresh;
  }

  /** The decoded envelope of a local entry, parsed once per entry rather than once per hit. */
  private fromLocal(key: string): Envelope | undefined {
    const raw = this.local.peek(key);
    if (!raw) return undefined;
    let envelope = this.decoded.get(raw);
    if (!envelope) {
      envelope = decode(raw);
      if (envelope) this.decoded.set(raw, envelope);
    }
    return envelope;
  }

  private putLocal(key: string, raw: Buffer, envelope: Envelope): void {
    this.decoded.set(raw, envelope);
    this.local.put(key, raw, this.lifetimeSeconds(envelope));
  }

  private lifetimeSeconds(envelope: Envelope): number {
    return Math.max(1, (envelope.freshUntil - Date.now()) / 1000 + this.options.staleSeconds);
  }
}

function decode(raw: Buffer | undefined): Envelope | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw.toString('utf8')) as Envelope;
    return typeof value?.freshUntil === 'number' && typeof value.answer?.body === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
