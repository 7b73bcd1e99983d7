-- Schema changes behind measured suggestions of the query benchmark (bench/README.md) that are
-- not in src/ (the earlier ones, heavy top rows and the covering created/location index, are
-- migrations now). Apply to a COPY of a benchmark database, never to a live one:
--   node dist/bench/query/sql-probe.js --db COPY --setup-file bench/query/suggestions.sql --candidates

-- retrieveLatLonAttacks offset >= 1 asks for whole UTC days: a day grain reads ~1/24 of the rows.
CREATE TABLE IF NOT EXISTS agg_created_day_location (domain INTEGER NOT NULL, bucket INTEGER NOT NULL, side INTEGER NOT NULL,
  location TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (domain, side, bucket, location)) WITHOUT ROWID;
INSERT OR IGNORE INTO agg_created_day_location
  SELECT domain, bucket / 86400 * 86400, side, location, sum(count) FROM agg_created_hour_location GROUP BY 1, 2, 3, 4;
