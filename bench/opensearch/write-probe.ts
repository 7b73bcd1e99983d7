/**
 * The server's write path of ingest in process, no node needed: CPU per alert from a message's
 * bytes to its alerts' `_bulk` body (read and validate the XML, enrich: ids, GeoIP, payloads;
 * then the body the OpenSearch store sends), over the messages of bench:ingest's generator.
 * Steadier than the end-to-end bench's server CPU on a shared machine: one process, one core,
 * no network.
 *
 * The reference in the same run: `--reference DIR`, another build's `dist` (e.g. main before a
 * change), probed alternately with this build, each round in fresh processes. A build whose
 * store has no `alertsBody` builds the body as the store did before (JSON.stringify lines
 * joined, then copied into a Buffer); this build's body is checked byte for byte against that.
 *
 *   node dist/bench/opensearch/write-probe.js [--messages 1000] [--rounds 7] [--reference DIR]
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AlertRecord } from '../../src/domain/alert';
import { exitWithUsageIfAsked, integerOption } from '../common/options';

const USAGE = 'usage: node dist/bench/opensearch/write-probe.js [--messages N] [--rounds R] [--reference DIST_DIR]';
const THIS_DIST = path.resolve(__dirname, '../..');
const ALERTS_PER_MESSAGE = 100;
const INDEX = 'ews-2026.12.01-000001';

interface RoundResult {
  /** CPU µs per alert: read, validate and enrich. */
  enrich: number;
  /** CPU µs per alert: the alerts' `_bulk` body. */
  body: number;
}

/** The `_bulk` body as the store built it before bulk-body.ts: lines of JSON.stringify joined, copied into a Buffer by undici. */
function straightforwardBody(records: readonly AlertRecord[]): Buffer {
  const lines: string[] = [];
  for (const record of records) lines.push(JSON.stringify({ create: { _index: INDEX, _id: record.id } }), JSON.stringify(record.document));
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** One round in this process, with the modules of the build in `dist`: a warm-up pass, then the timed pass. */
function probe(dist: string, messageCount: number): RoundResult {
  const load = <T>(file: string): T => require(path.join(dist, file)) as T;
  const { MessageGenerator } = load<typeof import('../ingest/messages')>('bench/ingest/messages.js');
  const { EwsMessageReader } = load<typeof import('../../src/ingest/ews-message')>('src/ingest/ews-message.js');
  const { BodyDecoder } = load<typeof import('../../src/ingest/body-decoder')>('src/ingest/body-decoder.js');
  const { PayloadSpool } = load<typeof import('../../src/enrich/payload-spool')>('src/enrich/payload-spool.js');
  const { SampleDigest } = load<typeof import('../../src/enrich/payload')>('src/enrich/payload.js');
  const { validateAlert } = load<typeof import('../../src/ingest/alert-validation')>('src/ingest/alert-validation.js');
  const { buildAlertRecord } = load<typeof import('../../src/enrich/alert-record')>('src/enrich/alert-record.js');
  const { openGeoIp } = load<typeof import('../../src/enrich/geoip')>('src/enrich/geoip.js');
  const { formatUtc } = load<typeof import('../../src/domain/time')>('src/domain/time.js');
  const store = load<Partial<typeof import('../../src/store/opensearch/opensearch-store')>>('src/store/opensearch/opensearch-store.js');
  const body = store.alertsBody === undefined ? straightforwardBody
    : (records: readonly AlertRecord[]): Buffer => {
      // Builds since the shared Utf8Text give bytes(); the BulkBody before it gave toBuffer()
      // (and had a field named bytes).
      const built = store.alertsBody!(records, records.map(() => INDEX), 'ewscve').body as { bytes?: () => Buffer; toBuffer?: () => Buffer };
      return built.toBuffer?.() ?? built.bytes!();
    };

  const geoIp = openGeoIp({});
  const generator = new MessageGenerator({ seed: 42 });
  const messages = Array.from({ length: messageCount }, (_, i) => generator.message(i * ALERTS_PER_MESSAGE, ALERTS_PER_MESSAGE));
  const limits = { maxAlerts: 10_000, maxHeldBytes: 1 << 28, maxSampleChars: 1 << 28 };
  const keepUpTo = 1 << 20;
  let result: RoundResult = { enrich: 0, body: 0 };
  for (const timed of [false, true]) {
    let enrichUs = 0;
    let bodyUs = 0;
    let alerts = 0;
    for (const message of messages) {
      const start = process.cpuUsage();
      const spool = new PayloadSpool();
      const reader = new EwsMessageReader(limits, () => new SampleDigest(spool, keepUpTo));
      const decoder = new BodyDecoder();
      reader.trust();
      reader.write(decoder.decode(message), message.length);
      reader.write(decoder.end());
      const context = { domain: 'community' as const, receivedTime: formatUtc(Date.now()), geoIp, keepPayloadsUpTo: keepUpTo };
      const records: AlertRecord[] = [];
      for (const raw of reader.close().alerts) {
        const checked = validateAlert(raw);
        if (checked.ok) records.push(buildAlertRecord(checked.alert, checked.peerType, context));
      }
      spool.close();
      const enriched = process.cpuUsage(start);
      const bytes = body(records);
      const done = process.cpuUsage(start);
      if (!timed && body !== straightforwardBody && !bytes.equals(straightforwardBody(records))) {
        throw new Error('the _bulk body differs from the straightforward construction');
      }
      enrichUs += enriched.user + enriched.system;
      bodyUs += done.user + done.system - enriched.user - enriched.system;
      alerts += records.length;
    }
    result = { enrich: enrichUs / alerts, body: bodyUs / alerts };
  }
  return result;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};

function main(): void {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' }, rounds: { type: 'string' }, reference: { type: 'string' }, child: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const messages = integerOption(values.messages, 1000, 'messages', 10, 100_000);
  if (values.child !== undefined) {
    process.stdout.write(JSON.stringify(probe(values.child, messages)));
    return;
  }
  const rounds = integerOption(values.rounds, 7, 'rounds', 1, 100);
  const builds = [THIS_DIST, ...(values.reference === undefined ? [] : [path.resolve(values.reference)])];
  const results: RoundResult[][] = builds.map(() => []);
  console.log(`write path: ${messages} messages of ${ALERTS_PER_MESSAGE} alerts, ${rounds} rounds${builds.length > 1 ? ', the builds alternating' : ''}`);
  for (let round = 1; round <= rounds; round++) {
    builds.forEach((dist, b) => {
      const result = JSON.parse(execFileSync(process.execPath, [__filename, '--child', dist, '--messages', String(messages)], { encoding: 'utf8' })) as RoundResult;
      results[b]!.push(result);
      console.log(`  round ${round} ${b === 0 ? 'this build' : 'reference'}: read+enrich ${result.enrich.toFixed(1)} µs/alert, _bulk body ${result.body.toFixed(1)} µs/alert`);
    });
  }
  console.log('CPU µs per alert, median of the rounds: read+enrich / _bulk body / both');
  const totals = results.map((list, b) => {
    const total = median(list.map((r) => r.enrich + r.body));
    console.log(`  ${b === 0 ? 'this build' : `reference ${builds[b]}`}: ${median(list.map((r) => r.enrich)).toFixed(1)} / ${median(list.map((r) => r.body)).toFixed(1)} / ${total.toFixed(1)}`);
    return total;
  });
  if (totals.length > 1) console.log(`ratio this / reference (both): ${(totals[0]! / totals[1]!).toFixed(2)}`);
}

main();
