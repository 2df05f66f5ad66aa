-- Schema version 6: the hosting servers Hostdesk talks to, and what their last sync saw.
-- A server's API token is NEVER stored here: it lives in the OS keyring under the server's name
-- (or, by explicit opt-in, in the environment). No column of this schema holds a secret.
CREATE TABLE servers (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE COLLATE NOCASE,
  kind            TEXT NOT NULL CHECK (kind IN ('aegir', 'whm', 'caddy', 'sandbox')),
  base_url        TEXT NOT NULL DEFAULT '', -- empty for the sandbox
  username        TEXT NOT NULL DEFAULT '', -- WHM user; Caddy: the HTTP server's name (srv0)
  master_domain   TEXT NOT NULL DEFAULT '', -- new sites are subdomains of it (Aegir)
  concurrency     INTEGER NOT NULL DEFAULT 4 CHECK (concurrency BETWEEN 1 AND 64),
  platforms       TEXT NOT NULL DEFAULT '[]', -- JSON array of platform names it offers
  profiles        TEXT NOT NULL DEFAULT '[]', -- JSON array of install profiles / WHM packages
  options         TEXT NOT NULL DEFAULT '{}', -- JSON: driver settings (Caddy sites folder, ...)
  last_synced_at  TEXT,
  last_seen_ok_at TEXT,  -- the last time the server answered as expected
  last_attempt_at TEXT,  -- the last time Hostdesk tried to reach it
  last_error      TEXT,  -- what went wrong then (NULL when the last attempt succeeded)
  last_error_code TEXT,  -- dns, connect, tls, timeout, auth, http, protocol, remote, ...
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) STRICT;

-- The sites (WHM accounts, Caddy routes) each server reported at its last sync: the local cache
-- that drift is computed from. Replaced as a whole by every sync of that server.
CREATE TABLE server_sites (
  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
  name      TEXT NOT NULL,
  remote_id TEXT,
  status    TEXT NOT NULL CHECK (status IN ('active', 'queued', 'suspended', 'deleted')),
  plan      TEXT,
  client    TEXT,
  synced_at TEXT NOT NULL,
  PRIMARY KEY (server_id, name)
) STRICT;

CREATE INDEX sites_server ON sites(server_id, domain);
