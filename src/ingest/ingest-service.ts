/**
 * The ingestion pipeline for one EWS message: parse, authenticate, validate, enrich, commit.
 */
import type { Authenticator } from '../auth/authenticator';
import type { AlertRecord } from '../domain/alert';
import { formatUtc } from '../domain/time';
import { buildAlertRecord } from '../enrich/alert-record';
import type { GeoIp } from '../enrich/geoip';
import type { Metrics } from '../metrics/metrics';
import { validateAlert } from './alert-validation';
import type { CommitQueue } from './commit-queue';
import { EwsMessageError, parseEwsMessage, type ParseLimits } from './ews-message';

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

/** The store could not commit; the sender should retry (ids make that safe). */
export class StoreFailedError extends Error {}

export class IngestService {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly geoIp: GeoIp,
    private readonly commits: CommitQueue,
    private readonly limits: ParseLimits,
    private readonly metrics: Metrics | null = null,
  ) {}

  /** Throws EwsMessageError (refused, 4xx) or StoreFailedError (not stored, 503). */
  async ingest(xml: string): Promise<IngestResult> {
    const message = parseEwsMessage(xml, this.limits);
    const credentials = message.credentials;
    const identity = credentials && (await this.authenticator.authenticate(credentials.username, credentials.token));
    if (!identity) throw new LoginRefusedError(credentials?.username ?? null);
    if (identity.domain === 'private' && identity.user.getOnly) {
      throw new EwsMessageError('this user may only query, not post alerts', 403);
    }

    const context = { domain: identity.domain, receivedTime: formatUtc(Date.now()), geoIp: this.geoIp };
    const records: AlertRecord[] = [];
    const skipReasons = new Map<string, number>();
    for (const raw of message.alerts) {
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
      throw new StoreFailedError(error instanceof Error ? error.message : String(error));
    }
    return { stored: records.length, skipped: message.alerts.length - records.length, skipReasons };
  }
}
