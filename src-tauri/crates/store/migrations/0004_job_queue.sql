-- Schema version 4: the durable job queue and the sandbox server.
-- The durable job queue: at-least-once delivery with an idempotency key per job, so the remote
-- effect happens once. A running job holds a lease; a lease that expires (the runner crashed or
-- was killed) sends the job back to the queue.
CREATE TABLE jobs (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
  idempotency_key TEXT NOT NULL UNIQUE,
  server_id       INTEGER,
  subscription_id INTEGER,
  site_id         INTEGER,
  payload         TEXT NOT NULL DEFAULT '{}',
  result          TEXT NOT NULL DEFAULT '{}', -- remote ids and outputs, saved as soon as known
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL DEFAULT 8 CHECK (max_attempts > 0),
  run_after       TEXT NOT NULL,
  lease_until     TEXT,
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  finished_at     TEXT
) STRICT;
CREATE INDEX jobs_ready ON jobs(state, run_after, id);
CREATE INDEX jobs_server ON jobs(server_id, state);

-- A job runs only after its prerequisites succeeded (create the site before the manager user).
CREATE TABLE job_deps (
  job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  depends_on INTEGER NOT NULL REFERENCES jobs(id),
  PRIMARY KEY (job_id, depends_on)
) STRICT;
CREATE INDEX job_deps_on ON job_deps(depends_on);

-- Every attempt, with its timing and error, for staff.
CREATE TABLE job_attempts (
  id          INTEGER PRIMARY KEY,
  job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  outcome     TEXT CHECK (outcome IN ('succeeded', 'failed', 'dead', 'interrupted')),
  error       TEXT,
  duration_ms INTEGER,
  UNIQUE (job_id, attempt)
) STRICT;

-- The sandbox: a simulated hosting server inside Hostdesk (always labelled as simulated), so a
-- new user can try the whole workflow without a server of their own.
CREATE TABLE sandbox_sites (
  name       TEXT PRIMARY KEY,
  profile    TEXT NOT NULL DEFAULT '',
  status     TEXT NOT NULL CHECK (status IN ('enabled', 'disabled', 'deleted')),
  users      TEXT NOT NULL DEFAULT '[]', -- JSON [{name, email, role, uid}]
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
