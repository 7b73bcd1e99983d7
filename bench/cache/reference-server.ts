/**
 * The reference for the cache bench: a bare Fastify (no logger, no hooks, no plugins) whose
 * routes answer constant bodies: the very bytes PEBA's cached answers hold for the same paths.
 * What PEBA spends beyond this per request is the cost of its cache path and its framework setup.
 *
 *   node dist/bench/cache/reference-server.js ROUTES.json PORT
 * ROUTES.json: [{ "path": "/alert/x", "type": "application/json; charset=utf-8", "body": "..." }]
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

export interface ReferenceRoute {
  readonly path: string;
  readonly type: string;
  readonly body: string;
}

async function main(routesFile: string, port: number): Promise<void> {
  const routes = JSON.parse(readFileSync(routesFile, 'utf8')) as ReferenceRoute[];
  const app = Fastify();
  for (const { path, type, body } of routes) {
    // Async handler and reply.send of a ready string, as PEBA's cached answers are sent.
    app.get(path, async (_request, reply) => reply.type(type).send(body));
  }
  await app.listen({ host: '127.0.0.1', port });
  const stop = (): void => {
    // A clean exit, so that --cpu-prof gets written.
    app.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  const [routesFile, port] = process.argv.slice(2);
  if (!routesFile || !port) {
    console.error('usage: node dist/bench/cache/reference-server.js ROUTES.json PORT');
    process.exit(2);
  }
  main(routesFile, Number(port)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
