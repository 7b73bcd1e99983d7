/**
 * Group commit: messages that finish parsing in the same turn of the event loop are written in
 * one store transaction, so concurrent senders share one fsync. Each caller still learns only
 * when its own alerts are committed. The next group is sent as soon as the store has
 * written the previous group's alerts, while it finishes that group's bookkeeping.
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
  /** A commit whose alerts are still being written: the next group waits for it. */
  private sending = false;
  /** Commits not finished (some may be past their alerts' write), and their alerts. */
  private running = 0;
  private writing = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Resolved when nothing is pending or running (drained() waits on it). */
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

  /** Alerts waiting for the next commit (or in those running). */
  get depth(): number {
    return this.pendingRecords + this.writing;
  }

  /** Resolves once `records` are durably stored; rejects if the store failed them. */
  commit(records: readonly AlertRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0 && this.running === 0) this.idle = new Promise((done) => { this.markIdle = done; });
      this.pending.push({ records, resolve, reject });
      this.pendingRecords += records.length;
      if (this.sending) return; // the commit being sent takes whatever is pending when its alerts are written
      if (this.pendingRecords >= FLUSH_AT_RECORDS) {
        clearTimeout(this.timer);
        this.timer = undefined;
        setImmediate(() => this.start());
      } else if (this.timer === undefined) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.start();
        }, this.delayMs);
      }
    });
  }

  /**
   * Sends what is pending as one group, unless a group's alerts are being written. The store
   * says when a group's alerts are written (OpenSearch: payload corrections may follow), so the
   * next group's write overlaps the rest of the previous commit; groups stay as large as when
   * commits ran one after the other.
   */
  private start(): void {
    if (this.sending || this.pending.length === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending;
    const count = this.pendingRecords;
    this.pending = [];
    this.pendingRecords = 0;
    this.sending = true;
    this.running++;
    this.writing += count;
    let sent = false;
    const alertsWritten = (): void => {
      if (sent) return;
      sent = true;
      this.sending = false;
      this.start();
    };
    void this.write(group, alertsWritten).finally(() => {
      this.running--;
      this.writing -= count;
      alertsWritten();
      if (this.running === 0 && this.pending.length === 0) this.markIdle();
    });
  }

  /** Resolves once every commit asked for so far has been written (or failed): before the store closes. */
  drained(): Promise<void> {
    return this.idle;
  }

  private async write(group: Pending[], alertsWritten?: () => void): Promise<void> {
    const records = group.length === 1 ? group[0]!.records : group.flatMap((p) => p.records);
    const started = performance.now();
    try {
      const outcome = await this.store.storeAlerts(records, alertsWritten);
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
    }
  }
}
