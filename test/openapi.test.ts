/**
 * The OpenAPI document against the routes Fastify has registered (both ways), and the live
 * answers of every operation that needs no input against the statuses and content types it
 * documents (Schemathesis does the rest in CI: .ci/schemathesis).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type RunningApp } from './helpers';
import { assertConforms } from './openapi-conformance';

type Node = Record<string, unknown>;
const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

/**
 * [METHOD, path] of every route, from Fastify's route tree, where a child line holds the rest
 * of its parent's path (HEAD routes Fastify adds to GETs left out).
 */
function registeredRoutes(peba: RunningApp): Array<[string, string]> {
  const tree = peba.app.server.printRoutes({ commonPrefix: false });
  const routes: Array<[string, string]> = [];
  const stack: Array<{ depth: number; path: string }> = [];
  for (const line of tree.split('\n')) {
    const match = /^([\s│├└─]*)(\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length;
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= depth) stack.pop();
    // Fastify writes path parameters as :name, OpenAPI as {name}.
    const path = (stack[stack.length - 1]?.path ?? '') + match[2]!.replace(/:(\w+)/g, '{$1}');
    stack.push({ depth, path });
    for (const method of match[3]!.split(',').map((m) => m.trim())) if (method !== 'HEAD') routes.push([method, path]);
  }
  return routes;
}

describe('OpenAPI document', () => {
  let peba: RunningApp;
  let document: Node;
  before(async () => {
    peba = await startApp({ METRICS: 'on' });
    const reply = await fetch(`${peba.url}/openapi.json`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('content-type'), 'application/json; charset=utf-8');
    document = await reply.json() as Node;
  });
  after(async () => {
    await peba.close();
  });

  const documented = (): Array<[string, string]> => Object.entries(document['paths'] as Record<string, Node>)
    .flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => [m.toUpperCase(), path] as [string, string]));

  test('is OpenAPI 3.1 and every operation documents its responses', () => {
    assert.equal(document['openapi'], '3.1.0');
    for (const [method, path] of documented()) {
      const operation = (document['paths'] as Record<string, Record<string, Node>>)[path]![method.toLowerCase()]!;
      assert.ok(Object.keys(operation['responses'] as Node).length > 0, `${method} ${path}`);
    }
  });

  test('describes every registered route, and nothing that is not one', () => {
    const registered = registeredRoutes(peba).map(([m, p]) => `${m} ${p}`).sort();
    assert.ok(registered.length > 30, `${registered.length} routes read from the route tree`);
    // A known path asked with another method gets 405 from the not-found handler, not from a
    // route: such operations (only a 405 documented) are checked live by the next test instead.
    const only405 = ([method, path]: [string, string]): boolean =>
      Object.keys((document['paths'] as Record<string, Record<string, Node>>)[path]![method.toLowerCase()]!['responses'] as Node).join() === '405';
    const inDocument = documented().filter((op) => !only405(op)).map(([m, p]) => `${m} ${p}`);
    assert.deepEqual(registered.filter((r) => !inDocument.includes(r)), [], 'registered but not documented');
    assert.deepEqual(inDocument.filter((r) => !registered.includes(r)), [], 'documented but not registered');
  });

  test('operations that need no input answer a documented status and content type', async () => {
    let checked = 0;
    for (const [method, path] of documented()) {
      const operation = (document['paths'] as Record<string, Record<string, Node>>)[path]![method.toLowerCase()]!;
      // Bodies and path parameters need input; an event stream never ends.
      if (operation['requestBody'] || path.includes('{') || path === '/dashboard/stream') continue;
      const reply = await fetch(`${peba.url}${path}`, { method, redirect: 'manual' });
      // Status, content type, header shapes (Schemathesis found the 405's Allow written too narrowly), body schema.
      assertConforms(document, method, path, reply, await reply.text());
      checked++;
    }
    assert.ok(checked > 15);
  });

  test('the documentation page works offline: no scripts, nothing loaded from elsewhere', async () => {
    const reply = await fetch(`${peba.url}/docs`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('content-type'), 'text/html; charset=utf-8');
    const page = await reply.text();
    assert.ok(!/<script|<link|src=|@import|url\(/i.test(page));
    assert.ok(!/https?:\/\//.test(page));
    for (const [method, path] of documented()) assert.ok(page.includes(`id="${method.toLowerCase()}-${path}"`), `${method} ${path} on the page`);
  });
});
