/**
 * Whether another connection (`peba import` in another process, say) committed to the database
 * since the last question: what this process keeps in memory about past data is then stale.
 */
import type Database from 'better-sqlite3';

export class ForeignWrites {
  private readonly dataVersion: Database.Statement;
  private seenVersion: unknown;

  constructor(db: Database.Database) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.seenVersion = this.dataVersion.get();
  }

  /** PRAGMA data_version changes with every commit of another connection, never with our own. */
  sinceLastAsked(): boolean {
    const version = this.dataVersion.get();
    if (version === this.seenVersion) return false;
    this.seenVersion = version;
    return true;
  }
}
