/**
 * Preloaded (`node --require`) into a server process by test/shutdown.test.ts: the process sends
 * itself SIGTERM as its first listen begins, so the signal arrives while the server is not yet
 * listening, every time (the window a supervisor's early stop can hit).
 */
import net from 'node:net';

const listen = net.Server.prototype.listen;
let signalled = false;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]): net.Server {
  if (!signalled) {
    signalled = true;
    process.kill(process.pid, 'SIGTERM');
  }
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof listen;
