/**
 * Where the samples of one message wait for their commit: a temporary file, unlinked as soon as
 * it is opened (nothing is left behind even after kill -9), so a message carrying a hundred
 * 10 MB samples costs disk, not memory. The store reads a sample back only when it keeps it.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class PayloadSpool {
  private fd: number | null = null;
  private length = 0;
  /** Samples already spooled in this message, by md5: a repeated sample is spooled once. */
  private readonly segments = new Map<string, () => Buffer>();
  /**
   * One buffer every read of this spool fills: a commit of a hundred new samples must not hold a
   * hundred sample-sized buffers until the next garbage collection. The store binds the bytes
   * (SQLite copies them) before it reads the next sample.
   */
  private scratch = Buffer.alloc(0);

  constructor(private readonly directory: string = tmpdir()) {}

  /** Where the next appended bytes start. */
  get end(): number {
    return this.length;
  }

  append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.fd ??= this.open();
    let written = 0;
    while (written < bytes.length) {
      written += writeSync(this.fd, bytes, written, bytes.length - written, this.length + written);
    }
    this.length += bytes.length;
  }

  /**
   * Ends the segment that began at `start` as the sample `md5` and returns how to read it back:
   * the bytes read are valid until the next read from this spool. A sample spooled before in this
   * message is read from its first copy; this one is dropped.
   */
  seal(md5: string, start: number): () => Buffer {
    const known = this.segments.get(md5);
    if (known) {
      this.length = start;
      return known;
    }
    const size = this.length - start;
    const read = (): Buffer => {
      if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(size);
      const bytes = this.scratch.subarray(0, size);
      let done = 0;
      while (done < size) {
        const n = readSync(this.fd!, bytes, done, size - done, start + done);
        if (n === 0) throw new Error('payload spool ended early');
        done += n;
      }
      return bytes;
    };
    this.segments.set(md5, read);
    return read;
  }

  /** Drops the bytes appended since `start` (a sample that outgrew the size the store keeps). */
  truncate(start: number): void {
    this.length = start;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private open(): number {
    const path = join(this.directory, `peba-samples-${randomUUID()}`);
    const fd = openSync(path, 'wx+', 0o600);
    unlinkSync(path);
    return fd;
  }
}
