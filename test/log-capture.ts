/** Captures PEBA's JSON log in a test (createApp's `logStream`) and lets the test wait for a line. */
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
