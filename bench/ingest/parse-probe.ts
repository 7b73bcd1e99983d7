/**
 * The parse and validate side of ingest in process, without a server: bench messages (100
 * alerts, as bench:ingest and bench:opensearch send them) through BodyDecoder, EwsMessageReader
 * and validateAlert, in 64 KiB chunks as an HTTP body arrives. The reference in the same run is
 * saxes alone on the same text with no handler but `text` (what any reader built on saxes pays
 * at least). Prints CPU microseconds per alert, median of the rounds, and the ratio.
 *
 *   node dist/bench/ingest/parse-probe.js [--alerts 100000] [--rounds 7]
 *
 * A probe for working on these files (run it with `node --cpu-prof` to see where the time
 * goes); the ingest figures that count are bench:opensearch's and bench:ingest's, end to end.
 */
import { parseArgs } from 'node:util';
import { SaxesParser } from 'saxes';
import { validateAlert } from '../../src/ingest/alert-validation';
import { BodyDecoder } from '../../src/ingest/body-decoder';
import { EwsMessageReader } from '../../src/ingest/ews-message';
import { exitWithUsageIfAsked, integerOption } from '../common/options';
import { MessageGenerator } from './messages';

const USAGE = 'usage: node dist/bench/ingest/parse-probe.js [--alerts N] [--rounds R]';
const PER_MESSAGE = 100;
const CHUNK = 64 * 1024;

function chunks(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += CHUNK) out.push(body.subarray(at, at + CHUNK));
  return out;
}

/** CPU microseconds of `run`. */
function cpuUs(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function main(): void {
  const { values } = parseArgs({ options: { alerts: { type: 'string' }, rounds: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  exitWithUsageIfAsked(values.help, USAGE);
  const alerts = integerOption(values.alerts, 100_000, 'alerts', PER_MESSAGE, 10_000_000);
  const rounds = integerOption(values.rounds, 7, 'rounds', 1, 1000);
  const generator = new MessageGenerator();
  const messages = Array.from({ length: Math.ceil(alerts / PER_MESSAGE) }, (_, i) => chunks(generator.message(i, PER_MESSAGE)));
  const count = messages.length * PER_MESSAGE;

  let valid = 0;
  const reader = (): void => {
    for (const message of messages) {
      const decoder = new BodyDecoder();
      const reader = new EwsMessageReader({ maxAlerts: 1000, maxHeldBytes: Infinity, maxSampleChars: Infinity });
      for (const chunk of message) reader.write(decoder.decode(chunk), chunk.length);
      reader.write(decoder.end());
      for (const raw of reader.close().alerts) if (validateAlert(raw).ok) valid++;
    }
  };
  let texts = 0;
  const saxesAlone = (): void => {
    for (const message of messages) {
      const parser = new SaxesParser({ position: false });
      parser.on('text', () => texts++);
      for (const chunk of message) parser.write(chunk.toString('latin1'));
      parser.close();
    }
  };
  const ours: number[] = [];
  const reference: number[] = [];
  for (let round = 0; round < rounds; round++) {
    ours.push(cpuUs(reader) / count);
    reference.push(cpuUs(saxesAlone) / count);
  }
  if (valid !== count * rounds) throw new Error(`${valid} valid alerts, expected ${count * rounds}`);
  const [a, b] = [median(ours), median(reference)];
  console.log(`${count.toLocaleString('en-US')} alerts in messages of ${PER_MESSAGE}, ${rounds} rounds (medians; CPU of this process)`);
  console.log(`  decode + read + validate: ${a.toFixed(2)} µs/alert (rounds: ${ours.map((v) => v.toFixed(2)).join(' ')})`);
  console.log(`  reference, saxes alone:   ${b.toFixed(2)} µs/alert (rounds: ${reference.map((v) => v.toFixed(2)).join(' ')})`);
  console.log(`  ratio: ${(a / b).toFixed(2)}`);
}

main();
