/**
 * Online backup of the SQLite store while PEBA keeps writing to it. `VACUUM INTO` reads one
 * snapshot inside a single read transaction: the copy holds every commit made before it began
 * and nothing of those after, and writers are never blocked (WAL). SQLite's page-by-page backup
 * API would restart whenever another process writes, so under steady ingestion it might never end.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type Database from 'better-sqlite3';

export class BackupTargetExistsError extends Error {}

/**
 * Writes the copy to a temporary name beside `destination`, fsyncs it (VACUUM INTO does not) and
 * renames it into place, so a file under the final name is always a complete backup.
 */
export function backupDatabase(db: Database.Database, destination: string): void {
  const target = resolve(destination);
  // Never overwrite: the file may be the previous good backup.
  if (existsSync(target)) throw new BackupTargetExistsError(`${target} exists; give a new file name`);
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  try {
    db.prepare('VACUUM INTO ?').run(partial);
    syncFile(partial);
    renameSync(partial, target);
    syncFile(dirname(target));
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
