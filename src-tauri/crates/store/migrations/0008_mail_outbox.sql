-- Schema version 8: the mail outbox and the mail templates.
-- Outgoing mail is a row here before anything talks to an SMTP server: it is written in the same
-- transaction as what caused it (an order, a dunning step) together with its `mail.send` job
-- (job key `mail:<outbox id>`), so a mail is never lost and, by its dedupe key, never queued
-- twice. The SMTP password is NEVER stored here: it lives in the OS keyring.
CREATE TABLE outbox (
  id         INTEGER PRIMARY KEY,
  client_id  INTEGER REFERENCES clients(id) ON DELETE SET NULL,
  to_addr    TEXT NOT NULL CHECK (to_addr LIKE '_%@_%'),
  to_name    TEXT NOT NULL DEFAULT '',
  subject    TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 998),
  body_text  TEXT NOT NULL,
  -- The template kind it was rendered from (welcome, payment_failed, ...) or custom.
  kind       TEXT NOT NULL CHECK (kind <> '' AND kind NOT GLOB '*[^a-z_]*'),
  -- Enqueueing the same key twice returns the first row: a mail is queued once.
  dedupe_key TEXT NOT NULL UNIQUE CHECK (dedupe_key <> ''),
  -- The RFC 5322 Message-ID, fixed at enqueue: every attempt sends the same one.
  message_id TEXT NOT NULL UNIQUE CHECK (message_id GLOB '<*@*>'),
  state      TEXT NOT NULL DEFAULT 'queued'
             CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
  attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error TEXT,
  created_at TEXT NOT NULL,
  sent_at    TEXT,
  updated_at TEXT NOT NULL,
  CHECK ((state = 'sent') = (sent_at IS NOT NULL))
) STRICT;
CREATE INDEX outbox_state ON outbox(state, id);
CREATE INDEX outbox_client ON outbox(client_id, id);

-- The subject and body of each kind of mail: per product, or (product_id NULL) the workspace
-- default. A kind with neither uses the built-in default.
CREATE TABLE mail_templates (
  id         INTEGER PRIMARY KEY,
  product_id INTEGER REFERENCES products(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL CHECK (kind <> '' AND kind NOT GLOB '*[^a-z_]*'),
  subject    TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 998),
  body       TEXT NOT NULL CHECK (body <> ''),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
-- One template per (product, kind); NULLs are distinct in a UNIQUE index, hence two.
CREATE UNIQUE INDEX mail_templates_default ON mail_templates(kind) WHERE product_id IS NULL;
CREATE UNIQUE INDEX mail_templates_product ON mail_templates(product_id, kind)
  WHERE product_id IS NOT NULL;
