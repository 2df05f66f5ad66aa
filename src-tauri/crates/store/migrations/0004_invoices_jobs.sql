-- Schema version 4: the first shape of invoices and the job queue, so the dashboard can count
-- open invoices and queued jobs. The billing and provisioning work extends both.
CREATE TABLE invoices (
  id          INTEGER PRIMARY KEY,
  client_id   INTEGER NOT NULL REFERENCES clients(id),
  number      TEXT UNIQUE, -- given at issue, NULL while draft
  status      TEXT NOT NULL DEFAULT 'draft'
              CHECK (status IN ('draft', 'issued', 'partially_paid', 'paid', 'void')),
  currency    TEXT NOT NULL,
  total_minor INTEGER NOT NULL DEFAULT 0,
  issued_at   TEXT,
  due_on      TEXT,
  created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX invoices_client ON invoices(client_id, status);
CREATE INDEX invoices_status ON invoices(status);

CREATE TABLE jobs (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
  idempotency_key TEXT NOT NULL UNIQUE,
  server_id       INTEGER,
  payload         TEXT NOT NULL DEFAULT '{}',
  attempts        INTEGER NOT NULL DEFAULT 0,
  run_after       TEXT NOT NULL,
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX jobs_state ON jobs(state, run_after);
