/**
 * The real server as a child process (the compiled CLI, as an operator runs it), for tests about
 * the process itself: signals, exit codes, durability. Readiness and progress are read from its
 * JSON log lines, so nothing waits on a clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { GEOIP_FIXTURES, REPO_ROOT } from './helpers';

export const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

export interface LogEntry {
  readonly level?: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few KB of its output, for failure messages. */
  output(): string;
  /** Resolves with the first log entry (past or future) that `test` accepts; rejects if the process exits first. */
  logged(test: (entry: LogEntry) => boolean): Promise<LogEntry>;
  /** http://127.0.0.1:PORT once the server listens. */
  listening(): Promise<string>;
}

/** Environment for the child: only the PEBA_* variables given here configure it. */
export function serverEnv(values: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('PEBA_')) env[key] = value;
  return {
    ...env,
    PEBA_BINDHOST: '127.0.0.1:0',
    PEBA_LOG_LEVEL: 'info',
    PEBA_GEOIP_CITY: join(GEOIP_FIXTURES, 'GeoLite2-City-Test.mmdb'),
    PEBA_GEOIP_ASN: join(GEOIP_FIXTURES, 'GeoLite2-ASN-Test.mmdb'),
    ...values,
  };
}

/** Wraps a spawned process whose standard output carries PEBA's JSON log. */
export function watchServer(child: ChildProcess): ServerProcess {
  let output = '';
  const entries: LogEntry[] = [];
  const waiters = new Set<() => void>();
  const keep = (text: string): void => {
    output = (output + text).slice(-8000);
  };
  child.stderr?.on('data', (chunk: Buffer) => keep(chunk.toString('utf8')));
  let ended = false;
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    keep(`${line}\n`);
    try {
      entries.push(JSON.parse(line) as LogEntry);
    } catch {
      return; // not a log line
    }
    wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // Output may still be buffered when 'exit' fires: the end of the stream is what ends the log.
  lines.once('close', () => {
    ended = true;
    wake();
  });
  const logged = (test: (entry: LogEntry) => boolean): Promise<LogEntry> => new Promise((resolve, reject) => {
    let seen = 0;
    const check = (): void => {
      for (; seen < entries.length; seen++) {
        if (test(entries[seen]!)) {
          waiters.delete(check);
          resolve(entries[seen]!);
          return;
        }
      }
      if (ended) {
        waiters.delete(check);
        reject(new Error(`the server's log ended without the awaited line:\n${output}`));
      }
    };
    waiters.add(check);
    check();
  });
  return {
    child,
    exited,
    output: () => output,
    logged,
    async listening() {
      const entry = await logged((e) => /Server listening at http:\/\/127\.0\.0\.1:\d+/.test(e.msg ?? ''));
      return /(http:\/\/127\.0\.0\.1:\d+)/.exec(entry.msg!)![1]!;
    },
  };
}

export function startServerProcess(values: Record<string, string>): ServerProcess {
  return watchServer(spawn(process.execPath, [CLI, 'start'], { env: serverEnv(values), stdio: ['ignore', 'pipe', 'pipe'] }));
}

/**
 * A store file as the process left it: alerts per analyzer id (the tests give each message its
 * own) and SQLite's integrity check. Read-only by default, so a live server's file is not
 * touched; `recoverWal` opens it read-write, as a server would after a `kill -9`, so SQLite
 * recovers the write-ahead log first.
 */
export function inspectStore(path: string, options: { recoverWal?: boolean } = {}): { perMessage: Map<string, number>; integrity: string } {
  const db = new Database(path, options.recoverWal ? { fileMustExist: true } : { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare(`SELECT "peerIdent" AS peer, count(*) AS n FROM alerts GROUP BY "peerIdent"`).all() as Array<{ peer: string; n: number }>;
    const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
    return { perMessage: new Map(rows.map((r) => [r.peer, r.n])), integrity };
  } finally {
    db.close();
  }
}
