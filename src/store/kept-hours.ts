/**
 * The firewall feeds' kept hours, for any store: per question shape and window length, each whole
 * hour of the window counted per source, and the window's sources merged and ranked. When the
 * window moves on by an hour, the hour that left is taken out (only the sources it touched are
 * merged again from the remaining hours) and only the hour that came in is counted: a 7-day
 * window costs one hour's count an hour instead of the week's (bench/README.md, "Firewall feeds
 * over long windows"). The store counts hours (`HourCounter`) and says what changed in kept
 * hours (`addLate`, `dropHours`, `forget`); this module holds no store-specific knowledge.
 */
import type { SourceActivity } from '../domain/query';
import { type Activity, type ActivityBySource, addActivity, type CountedSources, mergeRanked, ranking, toSourceActivity } from './source-activity';

export const HOUR = 3_600_000;

/**
 * Counts the shape's activity of each whole hour of [fromHour, toHour) and hands each hour to
 * `deliver` as soon as it is counted (every hour, empty ones too), in the same turn of the event
 * loop as its count: an alert committed after that is the store's to report with `addLate`.
 */
export type HourCounter<Shape> = (shape: Shape, fromHour: number, toHour: number, deliver: (hour: number, sources: ActivityBySource) => void) => Promise<void>;

/** One window's kept hours and their merge. */
class KeptWindow implements CountedSources {
  private readonly hours = new Map<number, ActivityBySource>();
  private readonly sources: ActivityBySource = new Map();
  private rankedList: SourceActivity[] = [];
  /** Sources whose entry in rankedList is stale (changed, added or gone). */
  private readonly changed = new Set<string>();
  private rows = 0;
  /** Per source, the kept hours that hold it. */
  private readonly hoursOf = new Map<string, number[]>();
  /** Per source, its index in rankedList; undefined until asked after rankedList changed. */
  private positions: Map<string, number> | undefined;

  /** Kept entries (hour rows and merged sources): what the memory bound counts. */
  get size(): number {
    return this.rows + this.sources.size;
  }

  heldHours(): number[] {
    return [...this.hours.keys()];
  }

  holds(hour: number): boolean {
    return this.hours.has(hour);
  }

  get(address: string): Readonly<Activity> | undefined {
    return this.sources.get(address);
  }

  positionOf(address: string): number | undefined {
    const ranked = this.ranked();
    if (this.positions === undefined) {
      // Built once per version of the ranked list (it changes when an hour moves or late alerts come).
      const positions = new Map<string, number>();
      ranked.forEach((entry, index) => positions.set(entry.address, index));
      this.positions = positions;
    }
    return this.positions.get(address);
  }

  ranked(): readonly SourceActivity[] {
    if (this.changed.size > 0) {
      const fresh: SourceActivity[] = [];
      this.changed.forEach((address) => {
        const activity = this.sources.get(address);
        if (activity !== undefined) fresh.push(toSourceActivity(address, activity));
      });
      this.rankedList = mergeRanked(this.rankedList, this.changed, fresh.sort(ranking));
      this.changed.clear();
      this.positions = undefined;
    }
    return this.rankedList;
  }

  addHour(hour: number, sources: ActivityBySource): void {
    if (this.hours.has(hour)) this.dropHour(hour);
    this.hours.set(hour, sources);
    this.rows += sources.size;
    sources.forEach((row, address) => {
      this.heldIn(address, hour);
      addActivity(this.sources, address, row);
      this.changed.add(address);
    });
  }

  private heldIn(address: string, hour: number): void {
    const hours = this.hoursOf.get(address);
    if (hours === undefined) this.hoursOf.set(address, [hour]);
    else hours.push(hour);
  }

  /** One alert (or several of one source) committed into a kept hour after it was counted. */
  addLate(hour: number, address: string, row: Readonly<Activity>): void {
    const sources = this.hours.get(hour);
    if (sources === undefined) return;
    if (!sources.has(address)) {
      this.rows++;
      this.heldIn(address, hour);
    }
    addActivity(sources, address, row);
    addActivity(this.sources, address, row);
    this.changed.add(address);
  }

  /** Takes an hour out: the sources it touched are merged again from their other hours. */
  dropHour(hour: number): void {
    const gone = this.hours.get(hour);
    if (gone === undefined) return;
    this.hours.delete(hour);
    this.rows -= gone.size;
    gone.forEach((_, address) => {
      this.changed.add(address);
      const hours = this.hoursOf.get(address)!;
      hours.splice(hours.indexOf(hour), 1);
      if (hours.length === 0) {
        this.hoursOf.delete(address);
        this.sources.delete(address);
        return;
      }
      // First and last, classes and sensors cannot be taken away: merged again from the hours left.
      const again: ActivityBySource = new Map();
      for (const other of hours) addActivity(again, address, this.hours.get(other)!.get(address)!);
      this.sources.set(address, again.get(address)!);
    });
  }
}

/** Distinct question shapes are few (a firewall or two per class filter); more means one asks oddly. */
const MAX_WINDOWS = 8;
/**
 * Kept entries (hour rows plus merged sources) over all windows: a few hundred bytes each
 * (bench/query feed-probe's heap figure), so some 400 MB at most. A window with more is
 * answered from its count without keeping it.
 */
export const MAX_KEPT_ROWS = 1_000_000;

export class KeptHours<Shape> {
  private readonly windows = new Map<string, { readonly shape: Shape; readonly window: KeptWindow }>();
  /** Window work is one question at a time: a move must not run under another question's answer. */
  private queue: Promise<unknown> = Promise.resolve();
  private generation = 0;

  constructor(private readonly count: HourCounter<Shape>, private readonly maxRows = MAX_KEPT_ROWS) {}

  /** Kept entries over every window (memory bound: maxRows). */
  get size(): number {
    let total = 0;
    for (const { window } of this.windows.values()) total += window.size;
    return total;
  }

  /** The largest end of any kept window's hours (0 when nothing is kept). */
  get endOfKept(): number {
    let end = 0;
    for (const { window } of this.windows.values()) for (const hour of window.heldHours()) end = Math.max(end, hour + HOUR);
    return end;
  }

  /**
   * Brings the window of `key` (a shape and a length) to the whole hours [firstHour, endHour)
   * and calls `use` with it in the same turn, so no other question moves it meanwhile.
   */
  withWindow<T>(key: string, shape: Shape, firstHour: number, endHour: number, use: (counted: CountedSources) => T,
    prepare?: () => Promise<void>): Promise<T> {
    // `prepare` (bringing kept hours up to date with what others wrote) runs in turn too.
    const run = this.queue.then(prepare).then(() => this.bring(key, shape, firstHour, endHour)).then(use);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async bring(key: string, shape: Shape, firstHour: number, endHour: number): Promise<KeptWindow> {
    for (;;) {
      let entry = this.windows.get(key);
      const held = entry?.window.heldHours() ?? [];
      const staying = held.filter((hour) => hour >= firstHour && hour < endHour).length;
      // A window that moved by more than half its length is counted afresh: cheaper than moving.
      if (entry === undefined || staying * 2 < (endHour - firstHour) / HOUR) {
        if (entry === undefined && this.windows.size >= MAX_WINDOWS) this.forget();
        entry = { shape, window: new KeptWindow() };
        this.windows.set(key, entry);
      }
      // A forget from now on (retention, another writer) voids what this pass counts.
      const generation = this.generation;
      const { window } = entry;
      for (const hour of window.heldHours()) if (hour < firstHour || hour >= endHour) window.dropHour(hour);
      let runStart: number | undefined;
      for (let hour = firstHour; hour <= endHour; hour += HOUR) {
        const missing = hour < endHour && !window.holds(hour);
        if (missing && runStart === undefined) runStart = hour;
        if (!missing && runStart !== undefined) {
          await this.count(shape, runStart, hour, (counted, sources) => {
            // Delivered after a forget (retention, another writer): belongs to nothing kept.
            if (this.generation === generation) window.addHour(counted, sources);
          });
          runStart = undefined;
        }
      }
      if (this.generation !== generation) continue;
      if (window.size > this.maxRows) {
        this.windows.delete(key);
      } else if (this.size > this.maxRows) {
        // Too much kept over all windows: the others go.
        this.windows.forEach((other, otherKey) => {
          if (otherKey !== key) this.windows.delete(otherKey);
        });
      }
      return window;
    }
  }

  /** Tells every kept window of a matching shape about activity committed into a counted hour. */
  addLate(hour: number, matches: (shape: Shape) => boolean, address: string, row: Readonly<Activity>): void {
    this.windows.forEach(({ shape, window }) => {
      if (matches(shape)) window.addLate(hour, address, row);
    });
  }

  /** Whether any window keeps an hour of [from, to). */
  holdsAny(from: number, to: number): boolean {
    for (const { window } of this.windows.values()) for (const hour of window.heldHours()) if (hour >= from && hour < to) return true;
    return false;
  }

  /** Takes the hours [from, to) out of every window: they are counted again when next asked. */
  dropHours(from: number, to: number): void {
    this.windows.forEach(({ window }) => {
      for (const hour of window.heldHours()) if (hour >= from && hour < to) window.dropHour(hour);
    });
  }

  /** Drops everything kept; a count under way keeps nothing of it. */
  forget(): void {
    this.windows.clear();
    this.generation++;
  }
}
