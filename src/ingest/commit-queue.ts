/**
 * Group commit: messages that finish parsing in the same turn of the event loop are written in
 * one store transaction, so concurrent senders share one fsync. Each caller still learns only
 * when its own alerts are committed.
 */
import type { AlertRecord, StoreOutcome } from '../domain/alert';
import type { AlertStore } from '../store/store';

/** Told about every commit (metrics): what was written, what the store reported, how long it took. */
export interface CommitObserver {
  committed(records: readonly AlertRecord[], outcome: StoreOutcome | null, seconds: number): void;
}

/** A group this large is written at once instead of waiting out the delay. */
const FLUSH_AT_RECORDS = 2000;

interface Pending {
  readonly records: readonly AlertRecord[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class CommitQueue {
  private pending: Pending[] = [];
  private pendingRecords = 0;
  private flushing = false;
  /** Alerts in the commit that is running. */
  private writing = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Resolved by a flush that leaves nothing pending (drained() waits on it). */
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  /**
   * @param delayMs how long the first message of a group waits for others: the event loop
   *   parses messages from other connections meanwhile, and they share the commit (one fsync).
   */
  constructor(
    private readonly store: AlertStore,
    private readonly delayMs = 5,
    private readonly observer: CommitObserver | null = null,
  ) {}

  /** Alerts waiting for the next commit (or in the one running). */
  get depth(): number {
    return this.pendingRecords + this.writing;
  }

  /** Resolves once `records` are durably stored; rejects if the store failed them. */
  commit(records: readonly AlertRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0 && !this.flushing) this.idle = new Promise((done) => { this.markIdle = done; });
      this.pending.push({ records, resolve, reject });
      this.pendingRecords += records.length;
      if (this.flushing) return;
      if (this.pendingRecords >= FLUSH_AT_RECORDS) {
        clearTimeout(this.timer);
        this.timer = undefined;
        setImmediate(() => void this.flush());
      } else if (this.pending.length === 1) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.flush();
        }, this.delayMs);
      }
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return; // the running flush takes whatever is pending when it loops
    this.flushing = true;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      this.pendingRecords = 0;
      await this.write(group);
    }
    this.flushing = false;
    this.markIdle();
  }

  /** Resolves once every commit asked for so far has been written (or failed): before the store closes. */
  drained(): Promise<void> {
    return this.idle;
  }

  private async write(group: Pending[]): Promise<void> {
    const records = group.length === 1 ? group[0]!.records : group.flatMap((p) => p.records);
    const started = performance.now();
    this.writing = records.length;
    try {
      const outcome = await this.store.storeAlerts(records);
      this.observer?.committed(records, outcome, (performance.now() - started) / 1000);
      for (const p of group) p.resolve();
    } catch (error) {
      this.observer?.committed(records, null, (performance.now() - started) / 1000);
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // Retry one by one so that a message that cannot be stored fails alone.
      for (const p of group) await this.write([p]);
    } finally {
      this.writing = 0;
    }
  }
}
