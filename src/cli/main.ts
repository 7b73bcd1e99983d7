#!/usr/bin/env node
/**
 * `peba` command line: `start` serves; `user add|list|remove` manages private-domain users;
 * `import`/`export` move alerts as Elasticsearch-style JSON lines; `retention` and `stats` run
 * the scheduled jobs once. Usage is printed for anything else.
 */
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createApp } from '../app';
import { generateToken, sha512Hex } from '../auth/tokens';
import { ConfigError, loadConfig, type Config } from '../config';
import { formatUtc, parseUtc } from '../domain/time';
import { exportAlerts, importAlerts, type ImportCounts } from '../jobs/import-export';
import { describeRetention, runRetention } from '../jobs/retention';
import { lastFullInterval, takeStatisticsSnapshot } from '../jobs/statistics';
import { openStore } from '../store/open-store';

const USAGE = `usage: peba [--config FILE] <command>
  start                                   serve the API (BINDHOST, default 127.0.0.1:9922)
  user add NAME [--token T] [--email E] [--get-only]
                                          add or replace a private-domain user; prints a
                                          generated token when none is given
  user list                               list users (names, flags; never tokens)
  user remove NAME                        remove a user
  import FILE|-                           import alerts from Elasticsearch-style JSON lines
                                          (bare documents or {"_id","_source"} hits); exit
                                          code 3 when malformed lines were skipped
  export [FILE]                           write every alert as {"_id","_source"} JSON lines
                                          (default standard output)
  retention                               delete alerts older than RETENTION_DAYS and
                                          aggregates older than AGGREGATE_RETENTION_DAYS now
  stats [--from "YYYY-MM-DD HH:MM:SS"]    compute and store the statistics snapshot of the
                                          last full STATS_INTERVAL_MINUTES interval (or the
                                          one starting at --from); prints it as JSON`;

/** Exit code of an import that skipped malformed lines (the rest was imported). */
const EXIT_SKIPPED_LINES = 3;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      token: { type: 'string' },
      email: { type: 'string' },
      'get-only': { type: 'boolean' },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const [command, sub, name] = positionals;
  // The server logs JSON: its warnings about the configuration go into that same log.
  const configWarnings: string[] = [];
  const config = loadConfig({ file: values.config, warn: (m) => (command === 'start' ? configWarnings.push(m) : console.error(`warning: ${m}`)) });
  if (command === 'start') return start(config, configWarnings);
  if (command === 'user') {
    if (sub === 'add' && name) return addUser(config, name, values.token, values.email ?? '', values['get-only'] ?? false);
    if (sub === 'list') return listUsers(config);
    if (sub === 'remove' && name) return removeUser(config, name);
  }
  if (command === 'import' && sub !== undefined && name === undefined) return importFile(config, sub);
  if (command === 'export' && name === undefined) return exportFile(config, sub);
  if (command === 'retention' && sub === undefined) return retention(config);
  if (command === 'stats' && sub === undefined) return stats(config, values.from);
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

async function start(config: Config, configWarnings: readonly string[]): Promise<number> {
  const app = createApp(config);
  for (const warning of configWarnings) app.server.log.warn({ configuration: true }, warning);
  const { host, port } = config.BINDHOST;
  await app.server.listen({ host, port });
  app.server.log.info({ store: config.STORE }, `PEBA serving on ${host}:${port}`);
  const stop = (signal: string): void => {
    app.server.log.info(`${signal}: finishing requests in flight, then stopping`);
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return new Promise(() => {}); // serve until a signal arrives
}

async function addUser(config: Config, peerName: string, token: string | undefined, email: string, getOnly: boolean): Promise<number> {
  if (!/^[\w.@+-]{1,128}$/.test(peerName)) throw new UsageError('NAME: 1-128 letters, digits or . @ + - _');
  const store = openStore(config);
  const secret = token ?? generateToken();
  try {
    await store.putUser({ peerName, tokenHash: sha512Hex(secret), community: false, getOnly, email });
  } finally {
    await store.close();
  }
  console.log(token === undefined ? `user ${peerName} added, token: ${secret}` : `user ${peerName} added`);
  return 0;
}

async function listUsers(config: Config): Promise<number> {
  const store = openStore(config);
  try {
    for (const user of await store.listUsers()) {
      const flags = [user.getOnly ? 'get-only' : '', user.community ? 'community' : ''].filter(Boolean).join(',');
      console.log([user.peerName, user.email, flags].join('\t'));
    }
  } finally {
    await store.close();
  }
  return 0;
}

async function removeUser(config: Config, peerName: string): Promise<number> {
  const store = openStore(config);
  try {
    if (!(await store.removeUser(peerName))) {
      console.error(`no user ${peerName}`);
      return 1;
    }
  } finally {
    await store.close();
  }
  console.log(`user ${peerName} removed`);
  return 0;
}

async function importFile(config: Config, file: string): Promise<number> {
  let input: Readable = process.stdin;
  if (file !== '-') {
    // Opened first, so a missing file is reported before the store is opened (and created).
    try {
      input = (await open(file, 'r')).createReadStream();
    } catch (error) {
      console.error(`cannot read ${file}: ${(error as Error).message}`);
      return 1;
    }
  }
  const store = openStore(config);
  const progress = process.stderr.isTTY ? new ProgressLine() : undefined;
  let result;
  try {
    result = await importAlerts(store, input, {
      onMalformed: (line, reason) => {
        progress?.clear();
        process.stderr.write(`line ${line}: ${reason}; skipped\n`);
      },
      onProgress: progress && ((counts) => progress.show(counts)),
    });
  } finally {
    progress?.clear();
    await store.close();
  }
  if (result.unknownFields.length > 0) {
    process.stderr.write(`note: fields outside the alert model were dropped: ${result.unknownFields.join(', ')}\n`);
  }
  console.log(`imported ${result.imported}, already present ${result.duplicates}, skipped ${result.skipped} (malformed lines)`);
  return result.skipped > 0 ? EXIT_SKIPPED_LINES : 0;
}

/** A `\r`-rewritten status line on a terminal. */
class ProgressLine {
  private readonly started = Date.now();
  private shown = false;

  show(counts: ImportCounts): void {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = Math.round(counts.lines / seconds);
    process.stderr.write(`\r\x1b[Klines ${counts.lines}, imported ${counts.imported}, duplicates ${counts.duplicates}, ` +
      `skipped ${counts.skipped}, ${rate} lines/s`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

async function exportFile(config: Config, file: string | undefined): Promise<number> {
  const store = openStore(config);
  try {
    if (file === undefined || file === '-') {
      try {
        const count = await exportAlerts(store, process.stdout);
        process.stderr.write(`exported ${count} alerts\n`);
      } catch (error) {
        // The reader stopped early (`peba export | head`): not an error of the export.
        if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      }
    } else {
      const output = createWriteStream(file);
      try {
        const count = await exportAlerts(store, output);
        output.end();
        await finished(output);
        process.stderr.write(`exported ${count} alerts to ${file}\n`);
      } finally {
        output.destroy();
      }
    }
  } finally {
    await store.close();
  }
  return 0;
}

async function retention(config: Config): Promise<number> {
  const store = openStore(config);
  try {
    for (const line of describeRetention(await runRetention(store, config))) console.log(line);
  } finally {
    await store.close();
  }
  return 0;
}

async function stats(config: Config, from: string | undefined): Promise<number> {
  // The command was asked for explicitly, so it works with the job switched off, at the default.
  const intervalMs = (config.STATS_INTERVAL_MINUTES || 60) * 60_000;
  let range = lastFullInterval(Date.now(), intervalMs);
  if (from !== undefined) {
    const start = parseUtc(from);
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(from) || Number.isNaN(start) || formatUtc(start) !== from) {
      throw new UsageError(`--from: expected "YYYY-MM-DD HH:MM:SS" (UTC), got ${JSON.stringify(from)}`);
    }
    range = { from: start, to: start + intervalMs };
  }
  const store = openStore(config);
  try {
    const snapshot = await takeStatisticsSnapshot(store, range);
    console.log(JSON.stringify({ UTCtimeFrom: snapshot.from, UTCtimeTo: snapshot.to, ...snapshot.values }));
  } finally {
    await store.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`${error.message}\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exitCode = 1;
    } else {
      console.error(error instanceof Error ? error.stack : error);
      process.exitCode = 1;
    }
  },
);
