/** A reader of the live stream for tests: connects with fetch and hands over events as they come. */
export interface StreamEvent {
  readonly event: string;
  readonly data: string;
}

export interface EventStreamClient {
  readonly status: number;
  readonly headers: Headers;
  /** Every byte received so far, as text. */
  readonly raw: () => string;
  /** Resolves with the first event (received before or after the call) that satisfies `test`. */
  next(test: (event: StreamEvent) => boolean): Promise<StreamEvent>;
  close(): void;
}

export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStreamClient> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  let text = '';
  let parsedUpTo = 0;
  const events: StreamEvent[] = [];
  const waiting: Array<{ test: (e: StreamEvent) => boolean; resolve: (e: StreamEvent) => void; reject: (e: Error) => void }> = [];
  const settle = (): void => {
    for (const w of [...waiting]) {
      const found = events.find(w.test);
      if (found) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(found);
      }
    }
  };
  if (response.body && response.status === 200) {
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          text += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = text.indexOf('\n\n', parsedUpTo)) >= 0) {
            const block = text.slice(parsedUpTo, end);
            parsedUpTo = end + 2;
            const lines = block.split('\n');
            const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
            const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            if (data !== '') events.push({ event, data });
          }
          settle();
        }
      } catch {
        // aborted by close()
      }
      for (const w of waiting.splice(0)) w.reject(new Error('the stream ended'));
    })();
  } else {
    await response.text().catch(() => '');
  }
  return {
    status: response.status,
    headers: response.headers,
    raw: () => text,
    next(test) {
      return new Promise((resolve, reject) => {
        waiting.push({ test, resolve, reject });
        settle();
      });
    },
    close: () => controller.abort(),
  };
}
