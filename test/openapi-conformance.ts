/**
 * An answer against what the OpenAPI document (/openapi.json) says of its operation: the status
 * is documented, the content type is one listed for it, documented headers have their shape, and
 * the body matches the listed schema (JSON parsed first; other bodies as one string).
 */
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';

export type OpenApiNode = Record<string, unknown>;

// `strict: false`: OpenAPI adds keywords (example, in, ...) that are not JSON Schema's.
const ajv = new Ajv2020({ strict: false, allErrors: true });

/** The server's document. */
export async function fetchOpenApi(url: string): Promise<OpenApiNode> {
  const reply = await fetch(`${url}/openapi.json`);
  assert.equal(reply.status, 200);
  return await reply.json() as OpenApiNode;
}

/** The operation `method path` (path without its query), or a failed assertion. */
export function operationOf(document: OpenApiNode, method: string, path: string): OpenApiNode {
  const item = (document['paths'] as Record<string, Record<string, OpenApiNode>>)[path.split('?', 1)[0]!];
  const operation = item?.[method.toLowerCase()];
  assert.ok(operation, `${method} ${path} is not in the document`);
  return operation;
}

/** Asserts that `reply` (its body read as `text`) is an answer the document lists for `method path`. */
export function assertConforms(document: OpenApiNode, method: string, path: string, reply: { status: number; headers: Headers }, text: string): void {
  const what = `${method} ${path.slice(0, 120)}`;
  const response = (operationOf(document, method, path)['responses'] as Record<string, OpenApiNode>)[String(reply.status)];
  assert.ok(response, `${what}: ${reply.status} is not documented`);
  for (const [name, header] of Object.entries((response['headers'] as Record<string, OpenApiNode> | undefined) ?? {})) {
    const value = reply.headers.get(name);
    if (value === null) continue;
    const schema = header['schema'] as OpenApiNode;
    assert.ok(ajv.validate(schema, value), `${what}: header ${name}: ${JSON.stringify(value)}: ${ajv.errorsText()}`);
  }
  const content = (response['content'] as Record<string, OpenApiNode> | undefined) ?? {};
  if (Object.keys(content).length === 0) return;
  const type = reply.headers.get('content-type');
  const listed = type === null ? undefined : content[type] ?? content['*/*'];
  assert.ok(listed, `${what}: ${type} not in ${Object.keys(content).join(', ')}`);
  const schema = listed['schema'] as OpenApiNode | undefined;
  if (schema === undefined) return;
  let body: unknown = text;
  if (type!.startsWith('application/json')) {
    try {
      body = JSON.parse(text);
    } catch {
      assert.fail(`${what}: not JSON: ${text.slice(0, 200)}`);
    }
  }
  assert.ok(ajv.validate(schema, body), `${what}: body ${text.slice(0, 200)}: ${ajv.errorsText()}`);
}
