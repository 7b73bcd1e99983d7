/**
 * A real memcached for tests (Debian's `memcached` package; `.ci/run` installs it), started on
 * a free loopback port. Tests can stop, pause (SIGSTOP: it hangs) and resume it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const CANDIDATES = ['/usr/bin/memcached', '/usr/local/bin/memcached'];

export function memcachedBinary(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export class MemcachedServer {
  private process: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(port?: number): Promise<MemcachedServer> {
    const server = new MemcachedServer(port ?? (await freePort()));
    await server.launch();
    return server;
  }

  /** (Re)starts the daemon on the same port; its contents start empty. */
  async launch(): Promise<void> {
    const binary = memcachedBinary();
    if (!binary) throw new Error('memcached is not installed (apt-get install memcached)');
    const child = spawn(binary, ['-l', '127.0.0.1', '-p', String(this.port), '-U', '0', '-m', '32', '-u', 'root'], { stdio: 'ignore' });
    // Never outlive the test process (the suites' after hooks stop it in the normal case).
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    this.process = child;
    const deadline = Date.now() + 5000;
    while (!(await accepts(this.port))) {
      if (Date.now() > deadline) throw new Error(`memcached did not start on ${this.port}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Freezes the daemon: connections stay open but nothing answers. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
