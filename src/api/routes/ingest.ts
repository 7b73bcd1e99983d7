/** `POST /ews-0.1/alert/postSimpleMessage`: ewsposter delivers its alerts here (CONTRACT section 2). */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EwsMessageError } from '../../ingest/ews-message';
import { LoginRefusedError, StoreFailedError, TooManyFailuresError, type IngestResult, type IngestService } from '../../ingest/ingest-service';
import type { Metrics } from '../../metrics/metrics';
import { logRefusedLogin } from '../access-log';
import { resultXml } from '../format/xml';
import { isStoreUnavailable } from '../../store/store';
import type { StoreOutage } from '../store-outage';

export const INGEST_PATH = '/ews-0.1/alert/postSimpleMessage';

export function registerIngestRoutes(app: FastifyInstance, ingest: IngestService, metrics: Metrics, outage: StoreOutage): void {
  // Whatever the sender calls its body (even a malformed Content-Type, which Fastify would
  // refuse with 415 before any parser runs), it is EWS XML: a refusal would make ewsposter
  // spool and retry the batch forever.
  // A route hook, not a global one: other routes should not pay for it.
  const onRequest = (request: FastifyRequest, _reply: FastifyReply, done: () => void): void => {
    request.headers['content-type'] = 'text/xml';
    done();
  };
  // The body is read by the ingest service itself, as a stream: a message with large payload
  // samples is far larger than what may be held in memory, and a refused sender is not read on.
  // Content-type parsers are scoped to this plugin.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.post(INGEST_PATH, { onRequest }, async (request, reply) => {
      reply.type('text/xml; charset=utf-8');
      const body = request.body as IncomingMessage | undefined;
      if (!body) return refuseMessage(request, reply, 400, 'empty request body', metrics);
      try {
        const result = await ingest.ingest(body.iterator({ destroyOnReturn: false }), request.ip);
        outage.up();
        if (result.skipped > 0) request.log.warn({ skipped: result.skipped, reasons: Object.fromEntries(result.skipReasons), client: request.ip }, 'alerts skipped');
        return reply.code(200).send(resultXml('OK', describeSkips(result)));
      } catch (error) {
        // Refused before the end of the body: the rest stays unread, so this connection ends.
        if (!body.complete) reply.header('connection', 'close');
        if (error instanceof LoginRefusedError) logRefusedLogin(request, error.username, error.message);
        if (error instanceof TooManyFailuresError) reply.header('retry-after', String(error.retryAfterSeconds));
        if (error instanceof EwsMessageError) return refuseMessage(request, reply, error.statusCode, error.message, metrics);
        if (error instanceof StoreFailedError && isStoreUnavailable(error.cause)) {
          metrics.messageRefused(503);
          return outage.answer(request, reply, error, true);
        }
        if (error instanceof StoreFailedError) {
          request.log.error({ reason: error.message, client: request.ip }, 'store failed, sender will retry');
          metrics.messageRefused(503);
          return reply.code(503).send(resultXml('Handling failed', error.message));
        }
        // The sender went away in the middle of its body: nothing stored, nobody to answer.
        if (!body.complete) return refuseMessage(request, reply, 400, 'the request body ended early', metrics);
        throw error;
      }
    });
  });
  // Other methods: 405 "POST is required for this action." (the original answered 500; CONTRACT
  // section 2, improve), from the server's fallback like every route's.
}

/**
 * Refuses a message with a 4xx: the XML `<Result>` ewsposter reads, the refusal counted, and a
 * log line with the reason (the sender sees only its status; the operator needs the why).
 */
export function refuseMessage(request: FastifyRequest, reply: FastifyReply, status: number, reason: string, metrics: Metrics): FastifyReply {
  request.log.info({ status, reason, client: request.ip }, 'message refused');
  metrics.messageRefused(status);
  return reply.code(status).type('text/xml; charset=utf-8').send(resultXml('Failed', reason));
}

function describeSkips(result: IngestResult): string {
  if (result.skipped === 0) return '';
  const reasons = [...result.skipReasons].map(([reason, count]) => `${reason} (${count})`).join('; ');
  return `${result.skipped} of ${result.stored + result.skipped} alerts skipped: ${reasons}`;
}
