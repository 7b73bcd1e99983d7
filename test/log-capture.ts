/** Captures PEBA's JSON log in a test (createApp's `logStream`) and lets the test wait for a line. */
import { createApp, type App } from '../src/app';
import type { Config } from '../src/config';
import { tempDir, testConfig, type RunningApp } from './helpers';

export type LogLine = Record<string, unknown>;

/** A pino destination that keeps every line and lets a test wait for one. */
export class LogCapture {
  readonly lines: LogLine[] = [];
  private waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];

  write(text: string): void {
    for (const part of text.split('\n').filter((p) => p !== '')) {
      const line = JSON.parse(part) as LogLine;
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    }
  }

  /** The first line (already logged or still to come) that matches. */
  next(match: (line: LogLine) => boolean): Promise<LogLine> {
    const found = this.lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

/** A full app on a free loopback port whose log (at `info`) is captured. */
export async function startLogged(overrides: Partial<Record<keyof Config, string>>): Promise<RunningApp & { log: LogCapture }> {
  const dir = tempDir();
  const log = new LogCapture();
  const app: App = createApp(testConfig(dir.path, { LOG_LEVEL: 'info', ...overrides }), { logStream: log });
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    app, log, dir: dir.path, url: `http://127.0.0.1:${address.port}`,
    async close() {
      await app.close();
      dir.remove();
    },
  };
}
