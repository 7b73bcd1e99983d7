#!/usr/bin/env node
/**
 * `peba` command line: `start` serves; `init` creates the store; `user add|list|remove` manages private-domain users;
 * `import`/`export` move alerts as Elasticsearch-style JSON lines; `backup` copies the SQLite store
 * while it is in use; `retention` and `stats` run
 * the scheduled jobs once. Usage is printed for anything else.
 */
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createApp } from '../app';
import { generateToken, sha512Hex } from '../auth/tokens';
import { ConfigError, loadConfig, type Config } from '../config';
import { formatUtc, parseUtc } from '../domain/time';
import { exportAll, importAlerts, type ExportCounts, type ImportCounts } from '../jobs/import-export';
import { describeRetention, runRetention } from '../jobs/retention';
import { lastFullInterval, takeStatisticsSnapshot } from '../jobs/statistics';
import { openStore } from '../store/open-store';
import { BackupTargetExistsError } from '../store/sqlite/backup';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { StoreMissingError, type AlertStore, type UserRecord } from '../store/store';

/** Each command's usage lines, in the order `peba help` lists them; own-key lookups only. */
const COMMANDS = new Map<string, string>([
  ['start', `  start                                   serve the API (BINDHOST, default 127.0.0.1:9922); creates
                                          the store if it is not there yet`],
  ['init', `  init                                    create the store (or bring its schema up to date) and
                                          print where it is; every other command but start refuses
                                          a store that does not exist`],
  ['user', `  user add NAME [--token T] [--email E] [--get-only|--no-get-only] [--replace]
                                          add a private-domain user; prints a generated token when
                                          none is given. An existing user is refused unless
                                          --replace; then only the fields given change (the token
                                          too: kept unless --token is given)
  user list                               list users (names, flags; never tokens)
  user remove NAME                        remove a user`],
  ['import', `  import FILE|-                           import alerts from Elasticsearch-style JSON lines
                                          (bare documents or {"_id","_source"} hits), and users
                                          and statistics snapshots (hits whose _index is USERINDEX
                                          or STATISTICINDEX; one already stored is kept); exit
                                          code 3 when malformed lines were skipped`],
  ['export', `  export [FILE]                           write every user (token hash only), statistics
                                          snapshot and alert as {"_index","_id","_source"} JSON
                                          lines (default standard output)`],
  ['backup', `  backup FILE                             write a consistent copy of the SQLite store to the new
                                          file FILE while PEBA runs and keeps storing (every alert
                                          acknowledged before the command started is in it)`],
  ['retention', `  retention                               delete alerts older than RETENTION_DAYS and
                                          aggregates older than AGGREGATE_RETENTION_DAYS now`],
  ['stats', `  stats [--from "YYYY-MM-DD HH:MM:SS"]    compute and store the statistics snapshot of the
                                          last full STATS_INTERVAL_MINUTES period (or the one
                                          starting at --from, which must start a period); prints
                                          it as JSON`],
  ['help', `  help [COMMAND]                          this text, or one command's (also COMMAND --help)`],
]);

const USAGE = `usage: peba [--config FILE] <command>
${[...COMMANDS.values()].join('\n')}
  --version                               print the version`;

function commandUsage(command: string): string {
  return `usage: peba [--config FILE] ${command} ...\n${COMMANDS.get(command)}`;
}

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
      'no-get-only': { type: 'boolean' },
      replace: { type: 'boolean' },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  const [command, sub, name] = positionals;
  if (values.version) {
    console.log(`peba ${packageVersion()}`);
    return 0;
  }
  // Help needs no configuration: it must work where the configuration is broken.
  if (command === 'help' || values.help) {
    const topic = command === 'help' ? sub : command;
    if (topic === undefined) {
      console.log(USAGE);
      return 0;
    }
    if (!COMMANDS.has(topic)) throw new UsageError(`unknown command: ${topic}`);
    console.log(commandUsage(topic));
    return 0;
  }
  if (command === undefined) {
    console.error(USAGE);
    return 2;
  }
  // The server logs JSON: its warnings about the configuration go into that same log.
  const configWarnings: string[] = [];
  const config = loadConfig({ file: values.config, warn: (m) => (command === 'start' ? configWarnings.push(m) : console.error(`warning: ${m}`)) });
  if (command === 'start' && sub === undefined) return start(config, configWarnings);
  if (command === 'init' && sub === undefined) return init(config);
  if (command === 'user') {
    if (sub === 'add' && name !== undefined && positionals.length === 3) {
      if (values['get-only'] && values['no-get-only']) throw new UsageError('--get-only and --no-get-only exclude each other');
      const getOnly = values['get-only'] ? true : values['no-get-only'] ? false : undefined;
      return addUser(config, name, { token: values.token, email: values.email, getOnly }, values.replace ?? false);
    }
    if (sub === 'list' && name === undefined) return listUsers(config);
    if (sub === 'remove' && name !== undefined && positionals.length === 3) return removeUser(config, name);
  }
  if (command === 'import' && sub !== undefined && name === undefined) return importFile(config, sub);
  if (command === 'export' && name === undefined) return exportFile(config, sub);
  if (command === 'backup' && sub !== undefined && name === undefined) return backup(config, sub);
  if (command === 'retention' && sub === undefined) return retention(config);
  if (command === 'stats' && sub === undefined) return stats(config, values.from);
  throw new UsageError(COMMANDS.has(command) ? `bad arguments: ${positionals.join(' ')}` : `unknown command: ${positionals.join(' ')}`);
}

/** The version in the package's own package.json (dist/src/cli/ is three levels below it). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
  return String(manifest.version);
}

/** The store of every command but start and init: one that is not there is an error, never created. */
function openExistingStore(config: Config): AlertStore {
  return openStore(config, { mustExist: true });
}

/** A stop that has not finished by then (a hung store) exits anyway, with a failure code. */
const STOP_WATCHDOG_MS = 9500;

async function start(config: Config, configWarnings: readonly string[]): Promise<number> {
  const app = createApp(config);
  for (const warning of configWarnings) app.server.log.warn({ configuration: true }, warning);
  const { host, port } = config.BINDHOST;
  // Signals are caught before listening: one that arrived between "Server listening" and the
  // handlers' installation took the default action and killed PEBA mid-request (seen once in CI,
  // test/shutdown.test.ts: npm start's SIGTERM right after the listening line). Until listening
  // is done a signal is held and acted on then.
  let listening = false;
  let held: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (listening) stop(signal);
    else held ??= signal;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await app.server.listen({ host, port });
  } catch (error) {
    await app.close();
    throw listenError(error, `${host}:${port}`);
  }
  app.server.log.info({ store: config.STORE, addresses: app.server.addresses() }, `PEBA serving on ${host}:${port}`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    // Repeats are expected: a terminal's Ctrl-C reaches npm and PEBA, and npm forwards it again.
    if (stopping) {
      app.server.log.info(`${signal}: already stopping`);
      return;
    }
    stopping = true;
    app.server.log.info(`${signal}: no new connections; answering the requests being read, then stopping`);
    setTimeout(() => {
      app.server.log.error(`stopping took more than ${STOP_WATCHDOG_MS} ms; exiting anyway`);
      process.exit(1);
    }, STOP_WATCHDOG_MS).unref();
    app.close().then(
      () => {
        app.server.log.info('stopped');
        // The log is written asynchronously: exit once the last lines are out, or a supervisor
        // reading a busy pipe may never see "stopped".
        const log = app.server.log as typeof app.server.log & { flush?: (done: () => void) => void };
        if (log.flush) log.flush(() => process.exit(0));
        else process.exit(0);
      },
      (error: unknown) => {
        app.server.log.error({ err: error }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  listening = true;
  if (held !== undefined) stop(held);
  return new Promise(() => {}); // serve until a signal arrives
}

/** Why the server could not listen, as one line naming the key to fix. */
function listenError(error: unknown, address: string): Error {
  const reasons: Record<string, string> = {
    EADDRINUSE: 'the port is in use by another process',
    EACCES: 'permission denied (ports below 1024 need privileges)',
    EADDRNOTAVAIL: 'no such address on this host',
  };
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const reason = Object.hasOwn(reasons, code) ? reasons[code] : undefined;
  return reason ? new ConfigError(`BINDHOST: cannot listen on ${address}: ${reason} (${code})`) : (error as Error);
}

async function init(config: Config): Promise<number> {
  const store = openStore(config);
  await store.close();
  console.log(`store ready: ${config.STORE}`);
  return 0;
}

interface UserFields {
  readonly token: string | undefined;
  readonly email: string | undefined;
  readonly getOnly: boolean | undefined;
}

async function addUser(config: Config, peerName: string, given: UserFields, replace: boolean): Promise<number> {
  if (!/^[\w.@+-]{1,128}$/.test(peerName)) throw new UsageError('NAME: 1-128 letters, digits or . @ + - _');
  const store = openExistingStore(config);
  let generated: string | undefined;
  let existing: UserRecord | undefined;
  try {
    existing = await store.getUser(peerName);
    if (existing && !replace) {
      console.error(`user ${peerName} exists; give --replace to change it (fields not given are kept)`);
      return 1;
    }
    if (given.token === undefined && existing === undefined) generated = generateToken();
    const token = given.token ?? generated;
    // Whatever was not given stays as it was: a replace never drops a field silently.
    await store.putUser({
      peerName,
      tokenHash: token === undefined ? existing!.tokenHash : sha512Hex(token),
      community: existing?.community ?? false,
      getOnly: given.getOnly ?? existing?.getOnly ?? false,
      email: given.email ?? existing?.email ?? '',
    });
  } finally {
    await store.close();
  }
  if (existing) console.log(`user ${peerName} replaced${given.token === undefined ? ' (token kept)' : ''}`);
  else console.log(generated === undefined ? `user ${peerName} added` : `user ${peerName} added, token: ${generated}`);
  return 0;
}

async function listUsers(config: Config): Promise<number> {
  const store = openExistingStore(config);
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
  const store = openExistingStore(config);
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
  const store = openExistingStore(config);
  const progress = process.stderr.isTTY ? new ProgressLine() : undefined;
  let result;
  try {
    result = await importAlerts(store, input, {
      indices: { users: config.USERINDEX, statistics: config.STATISTICINDEX },
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
  if (result.usersImported + result.usersPresent + result.snapshotsImported + result.snapshotsPresent > 0) {
    console.log(`users: imported ${result.usersImported}, already present ${result.usersPresent}; ` +
      `statistics snapshots: imported ${result.snapshotsImported}, already present ${result.snapshotsPresent}`);
  }
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

function exportedText(counts: ExportCounts): string {
  return `exported ${counts.alerts} alerts, ${counts.users} users, ${counts.snapshots} statistics snapshots`;
}

async function exportFile(config: Config, file: string | undefined): Promise<number> {
  const store = openExistingStore(config);
  const indices = { users: config.USERINDEX, statistics: config.STATISTICINDEX };
  try {
    if (file === undefined || file === '-') {
      try {
        process.stderr.write(`${exportedText(await exportAll(store, process.stdout, indices))}\n`);
      } catch (error) {
        // The reader stopped early (`peba export | head`): not an error of the export.
        if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      }
    } else {
      const output = createWriteStream(file);
      try {
        const counts = await exportAll(store, output, indices);
        output.end();
        await finished(output);
        process.stderr.write(`${exportedText(counts)} to ${file}\n`);
      } finally {
        output.destroy();
      }
    }
  } finally {
    await store.close();
  }
  return 0;
}

async function backup(config: Config, file: string): Promise<number> {
  const store = openExistingStore(config);
  try {
    if (!(store instanceof SqliteStore)) {
      console.error(`backup copies SQLite stores only; STORE is ${config.STORE} (back that up with its own tools)`);
      return 1;
    }
    const started = Date.now();
    try {
      await store.backup(file);
    } catch (error) {
      if (!(error instanceof BackupTargetExistsError)) throw error;
      console.error(error.message);
      return 1;
    }
    console.log(`backup written to ${resolve(file)} (${statSync(file).size} bytes, ${Date.now() - started} ms)`);
  } finally {
    await store.close();
  }
  return 0;
}

async function retention(config: Config): Promise<number> {
  const store = openExistingStore(config);
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
    // Snapshots are kept per period of the schedule: one that straddles two would be counted twice.
    if (start % intervalMs !== 0) {
      const before = Math.floor(start / intervalMs) * intervalMs;
      throw new UsageError(`--from: ${from} does not start a period of STATS_INTERVAL_MINUTES (${intervalMs / 60_000} min); ` +
        `the periods around it start at "${formatUtc(before)}" and "${formatUtc(before + intervalMs)}"`);
    }
    range = { from: start, to: start + intervalMs };
  }
  const store = openExistingStore(config);
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
    } else if (error instanceof StoreMissingError) {
      console.error(`${error.message} (STORE); check STORE and the working directory, or create it with "peba init"`);
      process.exitCode = 1;
    } else if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exitCode = 1;
    } else {
      console.error(error instanceof Error ? error.stack : error);
      process.exitCode = 1;
    }
  },
);
