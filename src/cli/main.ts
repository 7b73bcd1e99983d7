#!/usr/bin/env node
/**
 * `peba` command line: `start` serves; `user add|list|remove` manages private-domain users.
 * Usage is printed for anything else.
 */
import { parseArgs } from 'node:util';
import { createApp } from '../app';
import { generateToken, sha512Hex } from '../auth/tokens';
import { ConfigError, loadConfig, type Config } from '../config';
import { openStore } from '../store/open-store';

const USAGE = `usage: peba [--config FILE] <command>
  start                                   serve the API (BINDHOST, default 127.0.0.1:9922)
  user add NAME [--token T] [--email E] [--get-only]
                                          add or replace a private-domain user; prints a
                                          generated token when none is given
  user list                               list users (names, flags; never tokens)
  user remove NAME                        remove a user`;

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
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const config = loadConfig({ file: values.config, warn: (m) => console.error(`warning: ${m}`) });
  const [command, sub, name] = positionals;
  if (command === 'start') return start(config);
  if (command === 'user') {
    if (sub === 'add' && name) return addUser(config, name, values.token, values.email ?? '', values['get-only'] ?? false);
    if (sub === 'list') return listUsers(config);
    if (sub === 'remove' && name) return removeUser(config, name);
  }
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

async function start(config: Config): Promise<number> {
  const app = createApp(config);
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
