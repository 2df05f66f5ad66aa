-- Schema version 1: workspace settings, the audit log, clients and their contacts.
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Who changed what and when. before/after are JSON snapshots (NULL for create/delete).
CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  entity    TEXT NOT NULL,
  entity_id INTEGER,
  action    TEXT NOT NULL,
  before    TEXT,
  after     TEXT
) STRICT;
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id, id);

CREATE TABLE clients (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'company')),
  name        TEXT NOT NULL,
  email       TEXT NOT NULL,
  phone       TEXT NOT NULL DEFAULT '',
  address     TEXT NOT NULL DEFAULT '',
  country     TEXT,
  tax_id      TEXT NOT NULL DEFAULT '',
  currency    TEXT NOT NULL,
  timezone    TEXT NOT NULL,
  billing_day INTEGER NOT NULL DEFAULT 1 CHECK (billing_day BETWEEN 1 AND 31),
  notes       TEXT NOT NULL DEFAULT '',
  status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX clients_name ON clients(name COLLATE NOCASE, id);
CREATE INDEX clients_email ON clients(email COLLATE NOCASE, id);
CREATE INDEX clients_status_name ON clients(status, name COLLATE NOCASE, id);
CREATE INDEX clients_status_email ON clients(status, email COLLATE NOCASE, id);
CREATE INDEX clients_status ON clients(status); -- (status, rowid): "newest first" per status

CREATE TABLE contacts (
  id        INTEGER PRIMARY KEY,
  client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  name      TEXT NOT NULL,
  email     TEXT NOT NULL,
  phone     TEXT NOT NULL DEFAULT '',
  role      TEXT NOT NULL CHECK (role IN ('owner', 'billing', 'technical'))
) STRICT;
CREATE INDEX contacts_client ON contacts(client_id);
