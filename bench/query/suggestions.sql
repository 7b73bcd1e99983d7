-- Schema changes behind the measured suggestions of the query benchmark (bench/README.md).
-- Apply to a COPY of a benchmark database, never to a live one:
--   node dist/bench/query/sql-probe.js --db COPY --setup-file bench/query/suggestions.sql --candidates
-- Each block is independent; none is in src/ yet.

-- tops: "heavy" bucket rows only (count at or above a threshold). A key without a heavy bucket
-- totals at most (threshold - 1) per bucket, so the exact top-10 is found among the heavy keys
-- whenever the 10th total is above that bound (sql-probe checks it and compares answers).
CREATE INDEX IF NOT EXISTS agg_received_day_top_heavy ON agg_received_day_top(domain, kind, bucket, key, count) WHERE count >= 16;
CREATE INDEX IF NOT EXISTS agg_received_hour_top_heavy ON agg_received_hour_top(domain, kind, bucket, key, count) WHERE count >= 4;

-- retrieveLatLonAttacks offset >= 1 asks for whole UTC days: a day grain reads ~1/24 of the rows.
CREATE TABLE IF NOT EXISTS agg_created_day_location (domain INTEGER NOT NULL, bucket INTEGER NOT NULL, side INTEGER NOT NULL,
  location TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (domain, side, bucket, location)) WITHOUT ROWID;
INSERT OR IGNORE INTO agg_created_day_location
  SELECT domain, bucket / 86400 * 86400, side, location, sum(count) FROM agg_created_hour_location GROUP BY 1, 2, 3, 4;

-- retrieveLatLonAttacks offset=0: the raw edges of the 24 h window read location columns from the
-- table; a covering index answers them from the index alone (costs ~12% more database).
CREATE INDEX IF NOT EXISTS alerts_domain_created_loc ON alerts("clientDomain", "createTime", "location", "locationDestination");
