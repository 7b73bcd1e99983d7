/**
 * Text built piece by piece and wanted once as UTF-8 bytes (firewall feed bodies, OpenSearch
 * `_bulk` bodies). Pieces are appended to a string that becomes bytes every 512 pieces, and the
 * chunks are joined once at the end.
 *
 * Why: for the 75,000 lines of a 7-day feed at 1M alerts, mapping to an array and joining took
 * 21 ms (text) and 55 ms (CSV), appending all to one string 7 ms (text) but 77 ms (CSV: each
 * line's pieces flattened at the end, deeply nested), chunks of bytes 4 ms and 24-30 ms
 * (bench/README.md, "Firewall feeds: where the 7-day list's time went"). A `_bulk` body joined
 * as one string was copied again by undici into a Buffer before sending (bench/README.md, "The
 * ingest write path, per alert"). The bytes are those of the pieces concatenated and encoded at
 * once, as long as no piece ends inside a surrogate pair that the next one completes (every
 * caller adds whole lines or ASCII).
 */
const CHUNK_PIECES = 512;

export class Utf8Text {
  private readonly chunks: Buffer[] = [];
  private text = '';
  private added = 0;

  add(text: string): void {
    this.text += text;
    if (++this.added === CHUNK_PIECES) this.flush();
  }

  /** `line` and a line break. */
  addLine(line: string): void {
    this.add(`${line}\n`);
  }

  /** The bytes of everything added; call once. */
  bytes(): Buffer {
    this.flush();
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }

  private flush(): void {
    if (this.text !== '') this.chunks.push(Buffer.from(this.text, 'utf8'));
    this.text = '';
    this.added = 0;
  }
}
