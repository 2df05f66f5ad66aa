-- Schema version 5: billing. Invoices (draft -> issued -> partially paid / paid / void) with
-- lines keyed for idempotent bill runs, gapless numbers per series, credit notes mirroring
-- lines, payments recorded in two phases, usage records, and client credit.

-- Usage prices per subscription and resource: amount = fee + max(0, used - quota) x overage.
ALTER TABLE subscription_quotas ADD COLUMN fee_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscription_quotas ADD COLUMN overage_minor INTEGER NOT NULL DEFAULT 0;

CREATE TABLE invoices (
  id           INTEGER PRIMARY KEY,
  client_id    INTEGER NOT NULL REFERENCES clients(id),
  billing_date TEXT NOT NULL, -- the client's local calendar date this invoice is for
  currency     TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'draft'
               CHECK (status IN ('draft', 'issued', 'partially_paid', 'paid', 'void')),
  number       TEXT UNIQUE, -- given at issue, gapless per series
  issued_at    TEXT,
  due_on       TEXT,
  net_minor    INTEGER NOT NULL DEFAULT 0,
  tax_minor    INTEGER NOT NULL DEFAULT 0,
  total_minor  INTEGER NOT NULL DEFAULT 0,
  paid_minor   INTEGER NOT NULL DEFAULT 0,
  notes        TEXT NOT NULL DEFAULT '[]',  -- JSON: reverse charge and other legal notes
  buyer        TEXT NOT NULL DEFAULT '{}',  -- JSON snapshot of the client at issue
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX invoices_status ON invoices(status, billing_date);
CREATE INDEX invoices_client ON invoices(client_id, billing_date);

CREATE TABLE invoice_lines (
  id               INTEGER PRIMARY KEY,
  invoice_id       INTEGER NOT NULL REFERENCES invoices(id),
  key              TEXT NOT NULL UNIQUE, -- (subscription, period, kind[, resource]): a re-run adds nothing twice
  subscription_id  INTEGER REFERENCES subscriptions(id),
  kind             TEXT NOT NULL,
  description      TEXT NOT NULL,
  period_from      TEXT,
  period_to        TEXT,
  quantity         INTEGER NOT NULL,
  unit_price_minor INTEGER NOT NULL,
  net_minor        INTEGER NOT NULL,
  tax_rate_bps     INTEGER NOT NULL,
  tax_minor        INTEGER NOT NULL,
  total_minor      INTEGER NOT NULL,
  facts            TEXT, -- JSON: the frozen usage rate (fee, quota, used, overage price)
  flagged          INTEGER NOT NULL DEFAULT 0, -- late usage from an already invoiced period
  CHECK (total_minor = net_minor + tax_minor)
) STRICT;
CREATE INDEX invoice_lines_invoice ON invoice_lines(invoice_id);

-- Issued invoices are immutable: their lines and amounts can never change again.
CREATE TRIGGER invoice_lines_frozen_insert BEFORE INSERT ON invoice_lines
WHEN (SELECT status FROM invoices WHERE id = NEW.invoice_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable: correct them with a credit note'); END;
CREATE TRIGGER invoice_lines_frozen_update BEFORE UPDATE ON invoice_lines
WHEN (SELECT status FROM invoices WHERE id = OLD.invoice_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable: correct them with a credit note'); END;
CREATE TRIGGER invoice_lines_frozen_delete BEFORE DELETE ON invoice_lines
WHEN (SELECT status FROM invoices WHERE id = OLD.invoice_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable: correct them with a credit note'); END;
CREATE TRIGGER invoices_frozen BEFORE UPDATE OF client_id, billing_date, currency, number, issued_at,
  net_minor, tax_minor, total_minor, buyer, notes ON invoices
WHEN OLD.status <> 'draft'
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable: correct them with a credit note'); END;
CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices WHEN OLD.status <> 'draft'
BEGIN SELECT RAISE(ABORT, 'issued invoices are never deleted; void them'); END;

-- Gapless numbering: the next number of each series and year, taken in the issuing transaction.
CREATE TABLE number_series (
  series TEXT NOT NULL,
  year   INTEGER NOT NULL,
  next   INTEGER NOT NULL CHECK (next > 0),
  PRIMARY KEY (series, year)
) STRICT;

CREATE TABLE credit_notes (
  id          INTEGER PRIMARY KEY,
  invoice_id  INTEGER NOT NULL REFERENCES invoices(id),
  number      TEXT NOT NULL UNIQUE,
  reason      TEXT NOT NULL,
  net_minor   INTEGER NOT NULL,
  tax_minor   INTEGER NOT NULL,
  total_minor INTEGER NOT NULL,
  issued_at   TEXT NOT NULL
) STRICT;
CREATE TABLE credit_note_lines (
  id             INTEGER PRIMARY KEY,
  credit_note_id INTEGER NOT NULL REFERENCES credit_notes(id),
  line_id        INTEGER NOT NULL REFERENCES invoice_lines(id),
  description    TEXT NOT NULL,
  net_minor      INTEGER NOT NULL,
  tax_rate_bps   INTEGER NOT NULL,
  tax_minor      INTEGER NOT NULL,
  total_minor    INTEGER NOT NULL
) STRICT;
CREATE TRIGGER credit_notes_frozen BEFORE UPDATE ON credit_notes
BEGIN SELECT RAISE(ABORT, 'credit notes are immutable'); END;
CREATE TRIGGER credit_note_lines_frozen BEFORE UPDATE ON credit_note_lines
BEGIN SELECT RAISE(ABORT, 'credit notes are immutable'); END;

-- Payments are recorded before the gateway is called (pending) and after (succeeded/failed),
-- so a crash in between never charges twice: the key is sent as the gateway's idempotency key.
CREATE TABLE payments (
  id              INTEGER PRIMARY KEY,
  client_id       INTEGER NOT NULL REFERENCES clients(id),
  invoice_id      INTEGER REFERENCES invoices(id),
  method          TEXT NOT NULL CHECK (method IN ('manual', 'stripe', 'authnet', 'credit')),
  reference       TEXT NOT NULL DEFAULT '',
  amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
  currency        TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
  idempotency_key TEXT NOT NULL UNIQUE,
  gateway_ref     TEXT,
  error           TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX payments_invoice ON payments(invoice_id);

-- Overpayments become client credit, applied to the next invoice.
CREATE TABLE client_credit (
  client_id     INTEGER NOT NULL REFERENCES clients(id),
  currency      TEXT NOT NULL,
  balance_minor INTEGER NOT NULL DEFAULT 0 CHECK (balance_minor >= 0),
  PRIMARY KEY (client_id, currency)
) STRICT;

CREATE TABLE usage_records (
  id              INTEGER PRIMARY KEY,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
  resource        TEXT NOT NULL,
  quantity        INTEGER NOT NULL CHECK (quantity >= 0),
  at              TEXT NOT NULL,
  source          TEXT NOT NULL DEFAULT 'manual',
  UNIQUE (subscription_id, resource, at, source)
) STRICT;
CREATE INDEX usage_records_sub ON usage_records(subscription_id, resource, at);
