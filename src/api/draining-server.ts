/**
 * The HTTP server PEBA listens with: Node's, except that closing drains instead of cutting off.
 *
 * Node's `close()` stops listening and at once destroys every connection that has no request in
 * progress, which includes a connection accepted a moment ago whose request is still on its way,
 * and a keep-alive connection whose client is sending its next post right now: both clients
 * would see a reset. Here those connections get a grace period in which a request that arrives is
 * answered (with `Connection: close`, set by the routes while closing); idle connections are
 * closed when it ends, and whatever is still open at the deadline is closed regardless, so a
 * client holding a socket (or sending a body very slowly) cannot keep the process alive.
 */
import { Server, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';

export interface DrainTimes {
  /** How long idle connections stay open once closing started. */
  readonly idleGraceMs: number;
  /** When every connection still open is closed, requests in progress included. */
  readonly deadlineMs: number;
}

/** Well inside the 10 s a supervisor waits (systemd's TimeoutStopSec is larger): the store still has to close. */
export const DRAIN_TIMES: DrainTimes = { idleGraceMs: 1000, deadlineMs: 8000 };

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

export class DrainingServer extends Server {
  private draining = false;

  constructor(options: ServerOptions, handler: RequestHandler, private readonly times: DrainTimes = DRAIN_TIMES) {
    super(options, handler);
  }

  override close(callback?: (error?: Error) => void): this {
    if (!this.draining) {
      this.draining = true;
      const idle = setInterval(() => super.closeIdleConnections(), this.times.idleGraceMs);
      const deadline = setTimeout(() => this.closeAllConnections(), this.times.deadlineMs);
      this.once('close', () => {
        clearInterval(idle);
        clearTimeout(deadline);
      });
    }
    return super.close(callback);
  }

  /** Node's `close()` calls this at once; while draining the grace period decides instead. */
  override closeIdleConnections(): void {
    if (!this.draining) super.closeIdleConnections();
  }
}

/**
 * A Fastify `serverFactory` building a DrainingServer with the timeouts of Fastify's validated
 * options; `front` may answer a request before Fastify sees it (the hit lane), returning true.
 */
export function drainingServerFactory(front?: (request: IncomingMessage, response: ServerResponse) => boolean, times?: DrainTimes) {
  return (fastifyHandler: RequestHandler, options: Record<string, unknown>): Server => {
    const handler: RequestHandler = front
      ? (request, response) => { if (!front(request, response)) fastifyHandler(request, response); }
      : fastifyHandler;
    const server = new DrainingServer((options.http ?? {}) as ServerOptions, handler, times);
    server.keepAliveTimeout = Number(options.keepAliveTimeout);
    server.requestTimeout = Number(options.requestTimeout);
    server.setTimeout(Number(options.connectionTimeout));
    return server;
  };
}
