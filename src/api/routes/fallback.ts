/**
 * What the routes do not answer themselves: CORS preflights (as the original's flask_cors did),
 * 405 with `Allow` for a known path asked with another method, and one XML 404 for unknown
 * paths (Fastify's own answers are JSON, on an XML API).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isCorsPath } from '../cors';
import { resultXml } from '../format/xml';

/** How long a browser may reuse a preflight answer, seconds (Chromium caps it at 7200). */
const PREFLIGHT_MAX_AGE = 7200;
/** `Access-Control-Request-Headers` is echoed only when it is a plain list of header names. */
const HEADER_NAME_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;
const MAX_ECHOED_HEADERS = 1024;

/** Must be called before any route is registered: it learns every route's methods as they come. */
export function registerFallbacks(app: FastifyInstance): void {
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = methodsByPath.get(route.url ?? '') ?? new Set<string>();
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) methods.add(method);
    methodsByPath.set(route.url ?? '', methods);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    const methods = methodsByPath.get(path);
    if (!methods) return reply.code(404).type('text/xml; charset=utf-8').send(resultXml('Failed', 'Not Found'));
    const allow = [...methods, 'OPTIONS'].join(', ');
    if (request.method === 'OPTIONS') return answerOptions(request, reply, path, allow);
    const required = methods.has('POST') ? 'POST' : [...methods][0];
    request.log.info({ status: 405, reason: `${request.method} instead of ${required}`, client: request.ip }, 'method not allowed');
    return reply.code(405).header('allow', allow).type('text/plain; charset=utf-8').send(`${required} is required for this action.`);
  });

  /** Flask answered OPTIONS on every route with `Allow`; flask_cors added the preflight headers. */
  function answerOptions(request: FastifyRequest, reply: FastifyReply, path: string, allow: string): FastifyReply {
    reply.code(200).header('allow', allow);
    if (isCorsPath(path)) {
      reply.header('access-control-allow-methods', allow).header('access-control-max-age', String(PREFLIGHT_MAX_AGE)).header('vary', 'Origin');
      const requested = request.headers['access-control-request-headers'];
      if (typeof requested === 'string' && requested.length <= MAX_ECHOED_HEADERS && HEADER_NAME_LIST.test(requested.trim())) {
        reply.header('access-control-allow-headers', requested.trim());
      }
    }
    return reply.type('text/plain; charset=utf-8').send('');
  }
}
