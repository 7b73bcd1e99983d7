/** `/openapi.json` and `/docs`: the API description, and a page of it that needs no network (no scripts, no fonts, no CDN). */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config';
import { openApiDocument } from '../openapi';

type Node = Record<string, unknown>;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** `code` spans of the descriptions, after escaping. */
const inline = (text: string): string => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

function schemaSummary(schema: Node | undefined): string {
  if (!schema) return '';
  if (Array.isArray(schema['anyOf'])) return (schema['anyOf'] as Node[]).map(schemaSummary).join(' or ');
  const parts = [String(schema['type'] ?? '')];
  if (schema['const'] !== undefined) parts.push(`= ${JSON.stringify(schema['const'])}`);
  if (Array.isArray(schema['enum'])) parts.push(`one of ${(schema['enum'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`);
  if (schema['minimum'] !== undefined || schema['maximum'] !== undefined) parts.push(`${schema['minimum'] ?? ''}..${schema['maximum'] ?? ''}`);
  if (schema['pattern'] !== undefined) parts.push(`matching ${String(schema['pattern'])}`);
  if (schema['items']) parts.push(`of ${schemaSummary(schema['items'] as Node)}`);
  return parts.join(' ');
}

export function documentationPage(document: Node): string {
  const info = document['info'] as Node;
  const sections: string[] = [];
  for (const [path, item] of Object.entries(document['paths'] as Record<string, Node>)) {
    for (const [method, operation] of Object.entries(item as Record<string, Node>)) {
      const parameters = (operation['parameters'] as Node[] | undefined ?? []).map((p) =>
        `<tr><td><code>${escapeHtml(String(p['name']))}</code></td><td>${escapeHtml(String(p['in']))}</td><td>${escapeHtml(schemaSummary(p['schema'] as Node))}</td><td>${inline(String(p['description'] ?? ''))}</td></tr>`);
      const responses = Object.entries(operation['responses'] as Record<string, Node>).map(([status, response]) =>
        `<tr><td>${escapeHtml(status)}</td><td>${Object.keys((response['content'] as Node | undefined) ?? {}).map((t) => `<code>${escapeHtml(t)}</code>`).join('<br>')}</td><td>${inline(String(response['description'] ?? ''))}</td></tr>`);
      const body = operation['requestBody'] as Node | undefined;
      sections.push(`<section id="${escapeHtml(`${method}-${path}`)}">
<h2><span class="method">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h2>
<p>${inline(String(operation['summary'] ?? ''))}${operation['security'] ? ' <em>(authenticated)</em>' : ''}</p>
${parameters.length > 0 ? `<table><tr><th>parameter</th><th>in</th><th>schema</th><th></th></tr>${parameters.join('')}</table>` : ''}
${body ? `<p>Body: ${inline(String(body['description'] ?? ''))}</p>` : ''}
<table><tr><th>status</th><th>content</th><th></th></tr>${responses.join('')}</table>
</section>`);
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(String(info['title']))} API</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}.method{background:#333;color:#fff;padding:0 .3em}section{border-top:1px solid #ddd}</style>
</head><body>
<h1>${escapeHtml(String(info['title']))} API</h1>
<p>${inline(String(info['description']))} Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(String(document['openapi']))}).</p>
${sections.join('\n')}
</body></html>
`;
}

export function registerDocumentationRoutes(app: FastifyInstance, config: Config): void {
  const document = openApiDocument(config);
  const json = JSON.stringify(document);
  const page = documentationPage(document);
  app.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').send(json));
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
}
