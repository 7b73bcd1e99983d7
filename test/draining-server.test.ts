/**
 * DrainingServer: closing stops listening, answers requests on connections it already has,
 * closes idle connections after the grace period and everything at the deadline. Timers are
 * node:test's mock clock, so nothing depends on how fast this machine is.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, it, mock } from 'node:test';
import { DrainingServer } from '../src/api/draining-server';

const TIMES = { idleGraceMs: 1000, deadlineMs: 8000 };

/** A raw keep-alive HTTP client: what it received, and whether the server closed it. */
class RawClient {
  received = '';
  closed = false;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => { this.received += chunk; this.wake(); });
    socket.on('error', () => {});
    socket.on('close', () => { this.closed = true; this.wake(); });
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** Resolves when `test` holds on what was received (or the socket closed, to fail clearly). */
  async until(test: (client: RawClient) => boolean): Promise<void> {
    while (!test(this)) {
      if (this.closed) throw new Error(`closed; received: ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async closedByServer(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

function answers(text: string): number {
  return text.split('HTTP/1.1 200').length - 1;
}

async function startServer(): Promise<{ server: DrainingServer; port: number }> {
  // Answers "ok" with the request's body; the keep-alive decision is Node's (or the route's).
  const server = new DrainingServer({}, (request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => { body += chunk; });
    request.on('end', () => response.end(`ok ${body}`));
  }, TIMES);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

describe('DrainingServer', () => {
  afterEach(() => mock.timers.reset());

  it('keeps idle connections through the grace period, answers what they send, then closes them', async () => {
    const { server, port } = await startServer();
    const idle = await RawClient.open(port);
    idle.socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.until((c) => answers(c.received) === 1);
    const fresh = await RawClient.open(port); // accepted, request not sent yet

    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const closed = once(server, 'close');
    server.close();
    // Not listening any more: a new connection is refused.
    const refused = connect(port, '127.0.0.1');
    const [error] = await once(refused, 'error') as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED');

    // Both connections are still served: Node's close would have destroyed them at once.
    idle.socket.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
    fresh.socket.write('POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody');
    await idle.until((c) => answers(c.received) === 2);
    await fresh.until((c) => c.received.includes('ok body'));
    assert.equal(idle.closed || fresh.closed, false);

    mock.timers.tick(TIMES.idleGraceMs - 1);
    assert.equal(idle.closed || fresh.closed, false, 'closed before the grace period ended');
    mock.timers.tick(1);
    await idle.closedByServer();
    await fresh.closedByServer();
    await closed;
  });

  it('does not cut a request whose body is still arriving at the grace period; the deadline does', async () => {
    const { server, port } = await startServer();
    const slow = await RawClient.open(port);
    slow.socket.write('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf');
    const finishing = await RawClient.open(port);
    finishing.socket.write('POST /finishing HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc');

    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const closed = once(server, 'close');
    server.close();
    mock.timers.tick(TIMES.idleGraceMs * 3);
    finishing.socket.write('def');
    await finishing.until((c) => c.received.includes('ok abcdef'));
    assert.equal(slow.closed, false, 'a request in progress survives the idle sweeps');

    mock.timers.tick(TIMES.deadlineMs - TIMES.idleGraceMs * 3);
    await slow.closedByServer();
    assert.equal(slow.received, '', 'cut at the deadline, unanswered');
    await finishing.closedByServer();
    await closed;
  });

  it('closes idle connections at once when it is not draining (closeIdleConnections as Node does)', async () => {
    const { server, port } = await startServer();
    const idle = await RawClient.open(port);
    idle.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.until((c) => answers(c.received) === 1);
    server.closeIdleConnections();
    await idle.closedByServer();
    const closed = once(server, 'close');
    server.close();
    await closed;
  });
});
