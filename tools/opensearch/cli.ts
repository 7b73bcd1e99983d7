/*
 * The test launcher's command line.
 *
 *   node dist/tools/opensearch/cli.js start        starts a node, waits for green, prints
 *                                                  `export PEBA_TEST_OPENSEARCH=...` and
 *                                                  `export PEBA_OPENSEARCH_RUN=...` (for eval)
 *   node dist/tools/opensearch/cli.js stop [DIR]   stops the node of DIR (default $PEBA_OPENSEARCH_RUN)
 *   node dist/tools/opensearch/cli.js run -- CMD   runs CMD with PEBA_TEST_OPENSEARCH set: with
 *                                                  the node it names if already set, else with a
 *                                                  node started for CMD and stopped after it
 *   node dist/tools/opensearch/cli.js assemble     only assembles the distribution (cache warm-up)
 *
 * `--engine elasticsearch` before the verb assembles and starts Elasticsearch 7.17 instead, for
 * the compatibility check (README); OpenSearch is the default and the only engine CI runs.
 */
import { spawn } from 'node:child_process';
import { ENGINES, ensureDistribution, type EngineName } from './distribution';
import { startNode, stopNode } from './node';

const log = (line: string): void => {
  process.stderr.write(`opensearch: ${line}\n`);
};

function runCommand(command: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : 1)));
  });
}

/** Takes a leading `--engine NAME` off argv (only before the verb: a command after `run --` keeps its own). */
function engineOf(argv: string[]): EngineName {
  if (argv[0] !== '--engine') return 'opensearch';
  const name = argv.splice(0, 2)[1];
  if (name !== 'opensearch' && name !== 'elasticsearch') throw new Error(`--engine: expected opensearch or elasticsearch, got ${name}`);
  return name;
}

async function main(args: readonly string[]): Promise<number> {
  const argv = [...args];
  const engine = engineOf(argv);
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'assemble':
      process.stdout.write(`${ensureDistribution(undefined, log, ENGINES[engine])}\n`);
      return 0;
    case 'start': {
      const node = await startNode({ log, engine });
      log(`green at ${node.url}`);
      process.stdout.write(`export PEBA_TEST_OPENSEARCH=${node.url}\nexport PEBA_OPENSEARCH_RUN=${node.runDir}\n`);
      return 0;
    }
    case 'stop': {
      const dir = rest[0] ?? process.env['PEBA_OPENSEARCH_RUN'];
      if (dir === undefined || dir === '') {
        log('stop: no run directory given and PEBA_OPENSEARCH_RUN is not set');
        return 2;
      }
      await stopNode(dir);
      return 0;
    }
    case 'run': {
      const command = rest[0] === '--' ? rest.slice(1) : rest;
      if (command.length === 0) {
        log('run: no command given');
        return 2;
      }
      const given = process.env['PEBA_TEST_OPENSEARCH'];
      if (given !== undefined && given !== '') return runCommand(command, process.env);
      const node = await startNode({ log, engine });
      log(`green at ${node.url}`);
      const stop = (): void => {
        void stopNode(node.runDir).finally(() => process.exit(130));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        return await runCommand(command, { ...process.env, PEBA_TEST_OPENSEARCH: node.url });
      } finally {
        await stopNode(node.runDir);
      }
    }
    default:
      process.stderr.write('usage: cli.js [--engine opensearch|elasticsearch] start | stop [RUN_DIR] | run -- COMMAND... | assemble\n');
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
