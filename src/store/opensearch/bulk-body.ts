/** `_bulk` bodies: NDJSON lines as UTF-8 bytes (Utf8Text), and action lines written without serializing an object. */
import { Utf8Text } from '../../util/utf8-text';

/** A `_bulk` body of these NDJSON lines (each without its line break). */
export function ndjson(lines: Iterable<string>): Buffer {
  const body = new Utf8Text();
  for (const line of lines) body.addLine(line);
  return body.bytes();
}

/**
 * `{"<action>":{"_index":<index>,"_id":<id>}}`, byte for byte what JSON.stringify writes of
 * that object (the names JSON-escaped the same way), without building the object.
 */
export function actionLine(action: 'create' | 'delete', index: string, id: string): string {
  return `{"${action}":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}`;
}
