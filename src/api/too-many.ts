/** The 429 of the rate limits: plain text with `Retry-After` (seconds), from Fastify or the hit lane. */
import type { FastifyReply } from 'fastify';

export const TOO_MANY_FAILURES = 'Too many failed authentications from this address, retry later';
export const TOO_MANY_REQUESTS = 'Too many requests from this address, retry later';

export function tooManyHeaders(retryAfterSeconds: number, body: string): Record<string, string | number> {
  return {
    'content-type': 'text/plain; charset=utf-8',
    'retry-after': String(retryAfterSeconds),
    'content-length': Buffer.byteLength(body),
  };
}

export function sendTooMany(reply: FastifyReply, retryAfterSeconds: number, body: string): FastifyReply {
  return reply.code(429).header('retry-after', String(retryAfterSeconds)).type('text/plain; charset=utf-8').send(body);
}
