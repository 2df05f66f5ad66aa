-- Usage and quotas: samples collected from the servers, each subscription's usage in its
-- current billing period (with its share of the quota), the limits pushed to the servers, and
-- the 80% / 100% alerts. The per-period usage the bill run charges stays in usage_records
-- (source 'collected', one row per subscription, resource and period, kept up to date).

-- One measure of one resource, as a server reported it at one collection.
CREATE TABLE usage_samples (
  id              INTEGER PRIMARY KEY,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  -- NULL for what is counted per subscription (sites).
  site_id         INTEGER REFERENCES sites(id) ON DELETE CASCADE,
  server_id       INTEGER,
  resource        TEXT NOT NULL,
  -- In the resource's unit: disk MB used now, sites counted now; bandwidth: MB served since
  -- the previous sample (rounded up; `bytes` is exact).
  quantity        INTEGER NOT NULL CHECK (quantity >= 0),
  -- Bandwidth: bytes served since the previous sample, and the server's running total it was
  -- derived from (`counter` bytes in the calendar month `counter_key`, e.g. '2026-11').
  bytes           INTEGER CHECK (bytes IS NULL OR bytes >= 0),
  counter         INTEGER,
  counter_key     TEXT,
  at              TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX usage_samples_once
  ON usage_samples(subscription_id, resource, ifnull(site_id, 0), at);
CREATE INDEX usage_samples_site ON usage_samples(site_id, resource, at) WHERE site_id IS NOT NULL;

-- A subscription's usage of a resource in one billing period (the client's local dates), as of
-- the last collection or quota change; `percent` of its quota (NULL without a limit).
CREATE TABLE usage_periods (
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  resource        TEXT NOT NULL,
  period_start    TEXT NOT NULL,
  period_end      TEXT NOT NULL,
  used            INTEGER NOT NULL CHECK (used >= 0),
  quota_limit     INTEGER,
  percent         INTEGER,
  at              TEXT NOT NULL,
  PRIMARY KEY (subscription_id, resource, period_start)
) STRICT;
CREATE INDEX usage_periods_share ON usage_periods(percent DESC) WHERE percent IS NOT NULL;

-- The limit last queued to a site's server (a quota.set job), so a change is pushed once.
-- 0 means unlimited (WHM's convention).
CREATE TABLE site_limits (
  site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  resource    TEXT NOT NULL,
  quota_limit INTEGER NOT NULL CHECK (quota_limit >= 0),
  job_id      INTEGER,
  at          TEXT NOT NULL,
  PRIMARY KEY (site_id, resource)
) STRICT;

-- A subscription reached 80% or 100% of a quota in a billing period: once per threshold and
-- period. Shown in the app until dismissed; mailed to the client when the settings say so.
CREATE TABLE usage_alerts (
  id              INTEGER PRIMARY KEY,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  resource        TEXT NOT NULL,
  period_start    TEXT NOT NULL,
  threshold       INTEGER NOT NULL CHECK (threshold IN (80, 100)),
  used            INTEGER NOT NULL,
  quota_limit     INTEGER NOT NULL,
  at              TEXT NOT NULL,
  outbox_id       INTEGER,
  dismissed_at    TEXT,
  UNIQUE (subscription_id, resource, period_start, threshold)
) STRICT;
CREATE INDEX usage_alerts_open ON usage_alerts(at) WHERE dismissed_at IS NULL;
