/**
 * Answers while the store is unavailable: 503 with `Retry-After`, in the body shape the endpoint
 * uses for its errors, never a stack trace; the outage is logged when it begins, not once per
 * request (a busy server would write thousands of lines a second), and when it ends.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { resultXml } from './format/xml';
import { wantsJson, type Query } from './params';

/** Seconds a client is asked to wait: a restarting node or a shard allocation takes about this. */
export const STORE_RETRY_AFTER_SECONDS = 10;

/** Endpoints that answer XML unless `out=json` (the bad-IP lists and the alert count). */
const XML_UNLESS_JSON = /^\/(?:ews-0\.1\/)?alert\/(?:retrieveIPs|retrieveIPs15m|retrieveAlertsCount)$/;
/** Endpoints that answer XML whatever `out` says. */
const XML_ALWAYS = /^\/(?:ews-0\.1\/)?alert\/(?:retrieveAlertsCyber|querySingleIP)$/;

/** The bodies of a 503 for an unavailable store, per shape (also what the OpenAPI document lists). */
export const STORE_UNAVAILABLE_BODY = {
  ingest: resultXml('Handling failed', 'store unavailable'),
  xml: resultXml('Failed', 'store unavailable'),
  text: 'store unavailable\n',
  json: JSON.stringify('store unavailable'),
} as const;

export class StoreOutage {
  private down = false;

  constructor(private readonly log: FastifyBaseLogger) {}

  /** The store answered again (a heartbeat probe, a committed message). */
  up(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info('store available again');
  }

  /** Answers one request that met the store unavailable; `ingest` gives the sender's `Handling failed`. */
  answer(request: FastifyRequest, reply: FastifyReply, error: Error, ingest: boolean): FastifyReply {
    if (!this.down) {
      this.down = true;
      this.log.error({ reason: error.message }, 'store unavailable: answering 503 until it is back');
    }
    reply.code(503).header('retry-after', String(STORE_RETRY_AFTER_SECONDS)).header('cache-control', 'no-store');
    const path = request.url.split('?', 1)[0]!;
    if (ingest) return reply.type('text/xml; charset=utf-8').send(STORE_UNAVAILABLE_BODY.ingest);
    // The firewall feeds and the dashboard's address list are plain text lines.
    if (path.startsWith('/feed/') || path.endsWith('.txt')) return reply.type('text/plain; charset=utf-8').send(STORE_UNAVAILABLE_BODY.text);
    if (XML_ALWAYS.test(path) || (XML_UNLESS_JSON.test(path) && !wantsJson(request.query as Query))) {
      return reply.type('text/xml; charset=utf-8').send(STORE_UNAVAILABLE_BODY.xml);
    }
    // The JSON endpoints' convention for a non-answer (as DEFAULTRESPONSE): a JSON string, so a client's .json() does not throw.
    return reply.type('application/json; charset=utf-8').send(STORE_UNAVAILABLE_BODY.json);
  }
}
