/**
 * A child process of the dashboard bench: opens N live-stream connections to a server and reads
 * (and discards) everything they get. Prints `ready N` once all are open, and on SIGTERM the
 * bytes and events received, then exits. Kept apart so its work is not the server's.
 */
import http from 'node:http';

const [url, countText] = process.argv.slice(2);
const count = Number(countText);
let open = 0;
let bytes = 0;
let events = 0;
const requests: http.ClientRequest[] = [];

for (let i = 0; i < count; i++) {
  const request = http.get(url!, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
    if (response.statusCode !== 200) {
      console.error(`stream client ${i}: status ${response.statusCode}`);
      process.exit(1);
    }
    // Only the first client counts events: scanning every client's bytes would cost this
    // process (on the same cores as the server) far more than receiving them.
    response.on('data', i === 0 ? (chunk: Buffer) => {
      bytes += chunk.length;
      for (let at = chunk.indexOf('event: alert'); at >= 0; at = chunk.indexOf('event: alert', at + 12)) events++;
    } : (chunk: Buffer) => { bytes += chunk.length; });
    if (++open === count) console.log(`ready ${open}`);
  });
  request.on('error', (error) => {
    console.error(`stream client ${i}: ${error.message}`);
    process.exit(1);
  });
  requests.push(request);
}

process.on('SIGTERM', () => {
  console.log(JSON.stringify({ bytes, events }));
  for (const request of requests) request.destroy();
  process.exit(0);
});
