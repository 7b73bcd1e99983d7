/**
 * The log an operator reads: pino JSON lines with ISO timestamps, and one access line per
 * answered request (ACCESS_LOG): method, path, status, duration, bytes, client address.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import pino, { type DestinationStream } from 'pino';
import type { Config } from '../config';

/** The one logger of a server: Fastify's, the hit lane's and the jobs' lines look alike. */
export function createLogger(level: Config['LOG_LEVEL'], stream?: DestinationStream): FastifyBaseLogger {
  const options = { level, timestamp: pino.stdTimeFunctions.isoTime };
  return stream ? pino(options, stream) : pino(options);
}

/** Query parameters whose values must not reach a log file, whatever endpoint they are sent to. */
const SECRET_PARAMETER = /token|pass|secret|key|auth|session|sig|cookie/i;
/** A hostile 10 KB URL must not make a 10 KB log line. */
const MAX_LOGGED_PATH = 512;

/** The URL as logged: values of secret-looking parameters replaced, long URLs cut. */
export function loggablePath(url: string): string {
  const queryStart = url.indexOf('?');
  let path = url;
  if (queryStart >= 0) {
    const pairs = url.slice(queryStart + 1).split('&').map((pair) => {
      const nameEnd = pair.indexOf('=');
      const name = nameEnd < 0 ? pair : pair.slice(0, nameEnd);
      return nameEnd >= 0 && SECRET_PARAMETER.test(name) ? `${name}=***` : pair;
    });
    path = `${url.slice(0, queryStart)}?${pairs.join('&')}`;
  }
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}...` : path;
}

export class AccessLog {
  constructor(private readonly log: FastifyBaseLogger, private readonly clientAddress: (request: IncomingMessage) => string) {}

  /** One line for an answered request; `bytes` is the body's length when known. */
  answered(request: IncomingMessage, status: number, bytes: number | undefined, milliseconds: number): void {
    this.log.info({
      method: request.method,
      path: loggablePath(request.url ?? ''),
      status,
      ms: Math.round(milliseconds * 100) / 100,
      bytes,
      client: this.clientAddress(request),
    }, 'request');
  }
}

/** Usernames come from the sender: a 10 KB one is cut like a long path. */
const MAX_LOGGED_USERNAME = 128;

/**
 * A refused login, at warn: the username the client gave (never its token) and its address, so
 * an operator sees a sensor with a stale token, or someone guessing.
 */
export function logRefusedLogin(request: FastifyRequest, username: string | null, reason: string): void {
  request.log.warn({
    username: username === null ? null : username.slice(0, MAX_LOGGED_USERNAME),
    client: request.ip,
    path: loggablePath(request.url),
    reason,
  }, 'login refused');
}
