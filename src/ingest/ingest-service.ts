/**
 * The ingestion pipeline for one EWS message: parse, authenticate, validate, enrich, commit.
 */
import type { Identity } from '../auth/authenticator';
import type { GuardedAuthenticator } from '../auth/guarded-authenticator';
import type { AlertRecord } from '../domain/alert';
import { formatUtc } from '../domain/time';
import { buildAlertRecord } from '../enrich/alert-record';
import type { GeoIp } from '../enrich/geoip';
import type { Metrics } from '../metrics/metrics';
import { validateAlert } from './alert-validation';
import type { CommitQueue } from './commit-queue';
import { PayloadSpool } from '../enrich/payload-spool';
import { SampleDigest } from '../enrich/payload';
import { BodyDecoder } from './body-decoder';
import { EwsMessageError, EwsMessageReader, type Credentials, type RawAlert } from './ews-message';

export interface IngestResult {
  readonly stored: number;
  readonly skipped: number;
  /** Why alerts were skipped, one entry per distinct reason with its count. */
  readonly skipReasons: ReadonlyMap<string, number>;
}

/** Wrong or missing credentials (403); carries the username the sender gave, for the log. */
export class LoginRefusedError extends EwsMessageError {
  constructor(readonly username: string | null) {
    super('Authentication failed', 403);
  }
}

/** The sender's address failed to authenticate too often; it may try again after `retryAfterSeconds`. */
export class TooManyFailuresError extends EwsMessageError {
  constructor(readonly retryAfterSeconds: number) {
    super('too many failed authentications from this address, retry later', 429);
  }
}

/** The store could not commit; the sender should retry (ids make that safe). */
export class StoreFailedError extends Error {}

/** Most base64 characters of one `largepayload` sample: ewsposter sends at most 10 MB. */
export const MAX_SAMPLE_CHARS = 16 * 1024 * 1024;

export interface IngestLimits {
  readonly maxAlerts: number;
  /** Most bytes held of one message (the request body without an authenticated sender's samples). */
  readonly maxHeldBytes: number;
  /** Larger payloads are kept by md5 and size only. */
  readonly keepPayloadsUpTo: number;
}

export class IngestService {
  constructor(
    private readonly authenticator: GuardedAuthenticator,
    private readonly geoIp: GeoIp,
    private readonly commits: CommitQueue,
    private readonly limits: IngestLimits,
    private readonly metrics: Metrics | null = null,
  ) {}

  /**
   * Reads a message from its body, chunk by chunk, and stores its alerts. The sender is
   * authenticated as soon as `</Authentication>` has been read: a refused sender costs no more
   * than that. Throws EwsMessageError (refused, 4xx) or StoreFailedError (not stored, 503); on a
   * refusal the rest of the body is left unread.
   */
  /** `clientAddress` is whom the brute-force limit counts a failed authentication against. */
  async ingest(body: AsyncIterable<Buffer> | string, clientAddress: string): Promise<IngestResult> {
    const spool = new PayloadSpool();
    try {
      const keepUpTo = this.limits.keepPayloadsUpTo;
      const reader = new EwsMessageReader(
        { maxAlerts: this.limits.maxAlerts, maxHeldBytes: this.limits.maxHeldBytes, maxSampleChars: MAX_SAMPLE_CHARS },
        () => new SampleDigest(spool, keepUpTo),
      );
      const decoder = new BodyDecoder();
      let identity: Identity | null = null;
      for await (const chunk of typeof body === 'string' ? [Buffer.from(body)] : body) {
        reader.write(decoder.decode(chunk), chunk.length);
        if (!identity && reader.credentialsComplete) {
          identity = await this.authenticate(reader.sentCredentials, clientAddress);
          reader.trust();
        }
      }
      reader.write(decoder.end());
      const message = reader.close();
      identity ??= await this.authenticate(message.credentials, clientAddress);
      return await this.store(message.alerts, identity);
    } finally {
      spool.close();
    }
  }

  private async authenticate(credentials: Credentials | null, clientAddress: string): Promise<Identity> {
    const { identity, retryAfterSeconds } = await this.authenticator.authenticate(clientAddress, credentials);
    if (retryAfterSeconds !== undefined) throw new TooManyFailuresError(retryAfterSeconds);
    if (!identity) throw new LoginRefusedError(credentials?.username ?? null);
    if (identity.domain === 'private' && identity.user.getOnly) {
      throw new EwsMessageError('this user may only query, not post alerts', 403);
    }
    return identity;
  }

  private async store(alerts: readonly RawAlert[], identity: Identity): Promise<IngestResult> {
    const context = {
      domain: identity.domain, receivedTime: formatUtc(Date.now()), geoIp: this.geoIp,
      keepPayloadsUpTo: this.limits.keepPayloadsUpTo,
    };
    const records: AlertRecord[] = [];
    const skipReasons = new Map<string, number>();
    for (const raw of alerts) {
      const result = validateAlert(raw);
      if (result.ok) records.push(buildAlertRecord(result.alert, result.peerType, context));
      else skipReasons.set(result.reason, (skipReasons.get(result.reason) ?? 0) + 1);
    }
    if (this.metrics) {
      for (const record of records) this.metrics.alertReceived(identity.domain, record.document.peerType);
      for (const [reason, count] of skipReasons) this.metrics.alertsSkippedFor(identity.domain, reason, count);
    }
    try {
      await this.commits.commit(records);
    } catch (error) {
      throw new StoreFailedError(error instanceof Error ? error.message : String(error), { cause: error });
    }
    return { stored: records.length, skipped: alerts.length - records.length, skipReasons };
  }
}
