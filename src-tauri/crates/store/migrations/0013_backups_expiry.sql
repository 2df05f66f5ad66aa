-- Schema version 13: trials and fixed terms that end, scheduled backups with retention, restore.

-- Per product: how long its trial lasts (an order of it expires that many days after it is
-- placed), and its backup schedule and retention policy. NULL: the workspace default (setting
-- `backup_policy`); a product without a row follows the defaults entirely.
CREATE TABLE product_lifecycle (
  product_id      INTEGER PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE,
  trial_days      INTEGER CHECK (trial_days IS NULL OR trial_days BETWEEN 1 AND 366),
  backup_schedule TEXT CHECK (backup_schedule IN ('off', 'daily', 'weekly')),
  keep_daily      INTEGER CHECK (keep_daily BETWEEN 0 AND 366),
  keep_weekly     INTEGER CHECK (keep_weekly BETWEEN 0 AND 520),
  keep_monthly    INTEGER CHECK (keep_monthly BETWEEN 0 AND 120),
  updated_at      TEXT NOT NULL,
  -- A retention policy is given whole or not at all.
  CHECK ((keep_daily IS NULL) = (keep_weekly IS NULL) AND (keep_daily IS NULL) = (keep_monthly IS NULL))
) STRICT;

-- The backups Hostdesk asked for. A row is written with its `site.backup` job (same
-- transaction); the job fills in the server's id once the server lists the backup (Aegir returns
-- no id: the unique description finds it). Retention deletes rows' backups through
-- `site.backup_delete` jobs; a `final` backup (the last one before an expired site is deleted)
-- is never pruned.
CREATE TABLE backups (
  id            INTEGER PRIMARY KEY,
  site_id       INTEGER NOT NULL REFERENCES sites(id),
  reason        TEXT NOT NULL CHECK (reason IN ('scheduled', 'manual', 'final')),
  -- Sent to the server with the backup; unique, so a retry finds the backup it already made.
  description   TEXT NOT NULL UNIQUE CHECK (description <> ''),
  -- The server's id (Aegir bid); NULL until known, or when the server does not list backups.
  remote_id     TEXT,
  state         TEXT NOT NULL DEFAULT 'requested'
                CHECK (state IN ('requested', 'done', 'failed', 'deleting', 'deleted')),
  taken_at      TEXT,            -- when the server made it (RFC 3339 UTC)
  size_bytes    INTEGER,
  job_id        INTEGER,         -- the site.backup job
  delete_job_id INTEGER,         -- the site.backup_delete job, once retention dropped it
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  CHECK (state <> 'done' OR taken_at IS NOT NULL)
) STRICT;
CREATE INDEX backups_site ON backups(site_id, state, taken_at);

-- The end of a trial or a fixed term (subscriptions.expires_on), walked by the expire-check
-- sweep: each step once ('remind:7', 'expire', 'backup', 'delete'), recorded in the same
-- transaction as the jobs and mails it queues.
CREATE TABLE subscription_terms (
  subscription_id INTEGER PRIMARY KEY REFERENCES subscriptions(id) ON DELETE CASCADE,
  kind            TEXT NOT NULL CHECK (kind IN ('trial', 'term')),
  stage           TEXT NOT NULL DEFAULT 'running'
                  CHECK (stage IN ('running', 'expired', 'deleted', 'converted')),
  done            TEXT NOT NULL DEFAULT '[]',
  expired_on      TEXT,          -- the expiry date the steps were taken for
  converted_at    TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX subscription_terms_stage ON subscription_terms(stage);
CREATE INDEX subscriptions_expiry ON subscriptions(expires_on) WHERE expires_on IS NOT NULL;

-- The sandbox's simulated backups (the simulated server keeps them like a real one would).
CREATE TABLE sandbox_backups (
  id          INTEGER PRIMARY KEY,
  site        TEXT NOT NULL,
  description TEXT NOT NULL,
  users       TEXT NOT NULL DEFAULT '[]', -- the site's users when it was taken (restored back)
  size_bytes  INTEGER NOT NULL,
  taken_at    TEXT NOT NULL,
  UNIQUE (site, description)
) STRICT;
