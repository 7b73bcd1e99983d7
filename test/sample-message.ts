/** EWS messages with `largepayload` samples, generated piece by piece while they are sent. */
import { createHash } from 'node:crypto';
import { alertXml, COMMUNITY, ewsMessage, seededRandom } from './helpers';
/** Binary bytes per generated piece: a multiple of 3, so the base64 pieces join without padding. */
const PIECE_BYTES = 48 * 1024;

export interface Sample {
  md5: string;
  size: number;
}

/**
 * A dionaea message with `count` alerts, each carrying a distinct sample of `base64Chars`
 * base64 characters (ewsposter's largest is 10 MB), generated piece by piece. `samples` receives
 * each sample's md5 and size as it is generated.
 */
export function* dionaeaMessage(count: number, base64Chars: number, samples: Sample[], credentials = COMMUNITY, authenticationFirst = true): Generator<Buffer> {
  const auth = ewsMessage([], credentials).replace('</EWS-SimpleMessage>', '');
  const [head, authentication] = [auth.slice(0, auth.indexOf('<Authentication>')), auth.slice(auth.indexOf('<Authentication>'))];
  yield Buffer.from(head + (authenticationFirst ? authentication : ''));
  const random = seededRandom(count * 7919 + base64Chars);
  for (let i = 0; i < count; i++) {
    const alert = alertXml({
      analyzer: 'dionaea-large', createTime: `2026-11-27 12:00:${String(i).padStart(2, '0')}`,
      targetPort: '445', requests: { description: 'Dionaea', largepayload: '\u0000' },
    });
    const [before, afterSample] = alert.split('\u0000') as [string, string];
    yield Buffer.from(before);
    const hash = createHash('md5');
    let size = 0;
    for (let chars = 0; chars < base64Chars; chars += (PIECE_BYTES / 3) * 4) {
      const bytes = Buffer.allocUnsafe(Math.min(PIECE_BYTES, ((base64Chars - chars) / 4) * 3));
      for (let b = 0; b < bytes.length; b += 4) bytes.writeUInt32LE(Math.floor(random() * 2 ** 32) >>> 0, Math.min(b, bytes.length - 4));
      hash.update(bytes);
      size += bytes.length;
      yield Buffer.from(bytes.toString('base64'));
    }
    samples.push({ md5: hash.digest('hex'), size });
    yield Buffer.from(afterSample);
  }
  yield Buffer.from(`${authenticationFirst ? '' : authentication}</EWS-SimpleMessage>`);
}

