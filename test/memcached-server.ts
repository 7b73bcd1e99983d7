/**
 * A real memcached for tests (Debian's `memcached` package; `.ci/run` installs it), started on
 * a free loopback port. Tests can stop, pause (SIGSTOP: it hangs) and resume it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';

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
    // -vv: memcached writes "server listening" once its socket is listening, so readiness is that
    // line (an event), not a poll; it turns quiet again below.
    const child = spawn(binary, ['-l', '127.0.0.1', '-p', String(this.port), '-U', '0', '-m', '32', '-u', 'root', '-vv'], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Never outlive the test process (the suites' after hooks stop it in the normal case).
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    this.process = child;
    // Read to the end whatever comes, so the daemon never blocks on a full pipe.
    const lines = createInterface({ input: child.stderr! });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onLine = (line: string): void => {
        if (!line.startsWith('slab class')) output = `${output}${line}\n`.slice(-4000);
        if (!/ server listening /.test(line)) return;
        child.removeListener('exit', onExit);
        lines.removeListener('line', onLine);
        resolve();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        lines.removeListener('line', onLine);
        reject(new Error(`memcached exited (${code ?? signal}) before listening on ${this.port}:\n${output}`));
      };
      lines.on('line', onLine);
      child.once('exit', onExit);
    });
    // A line per command would only cost time; the answer also shows it speaks the protocol.
    const answer = await textCommand(this.port, 'verbosity 0');
    if (answer !== 'OK') throw new Error(`memcached on ${this.port} answered "verbosity 0" with ${answer}`);
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

/** Sends one text-protocol command on a new connection and resolves with the first line of the answer. */
function textCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`memcached closed the connection: ${answer}`)));
    socket.on('data', (chunk: string) => {
      answer += chunk;
      const end = answer.indexOf('\r\n');
      if (end < 0) return;
      resolve(answer.slice(0, end));
      socket.destroy();
    });
    socket.write(`${command}\r\n`);
  });
}
