-- Schema version 12: the domains sites answer on, and their certificates.

-- A site's domain and how it came to be: a subdomain of the server's master domain, a domain
-- the client owns (Hostdesk shows the records to set and verifies them before the site goes
-- live), or a domain registered for the client through the registrar (renewed with the
-- subscription; its expiry tracked). One row per name.
CREATE TABLE domains (
  id               INTEGER PRIMARY KEY,
  name             TEXT NOT NULL UNIQUE CHECK (name = lower(name) AND name <> ''),
  mode             TEXT NOT NULL CHECK (mode IN ('subdomain', 'owned', 'registered')),
  client_id        INTEGER REFERENCES clients(id),
  subscription_id  INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,
  site_id          INTEGER REFERENCES sites(id) ON DELETE SET NULL,
  order_id         INTEGER REFERENCES orders(id) ON DELETE SET NULL,
  -- pending: waiting for its job; verifying: an owned domain whose records are not seen yet;
  -- active: registered (or verified, or a subdomain); failed: the registration was refused
  -- (taken) and the client was credited; expired: past its expiry without a renewal.
  state            TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'verifying', 'active', 'failed', 'expired', 'released')),
  registrar        TEXT,           -- namecheap (registered domains)
  registrar_id     TEXT,           -- the registrar's id, saved as soon as the registrar returns it
  years            INTEGER NOT NULL DEFAULT 1 CHECK (years BETWEEN 1 AND 10),
  -- What the registrar charged the reseller (its currency, minor units), for the record.
  cost_minor       INTEGER,
  cost_currency    TEXT,
  registered_on    TEXT,           -- YYYY-MM-DD
  expires_on       TEXT,           -- YYYY-MM-DD (registered domains)
  auto_renew       INTEGER NOT NULL DEFAULT 1 CHECK (auto_renew IN (0, 1)),
  -- The order's invoice and the part of its first charge that paid for the domain: what a
  -- refused registration credits back.
  invoice_id       INTEGER REFERENCES invoices(id),
  refund_minor     INTEGER NOT NULL DEFAULT 0 CHECK (refund_minor >= 0),
  credit_note      TEXT,           -- the credit note's number, once the client was credited
  dns_zone         TEXT,           -- the zone's id on the reseller's DNS server, once created
  target_ip        TEXT,           -- the address the domain's A record points at
  verified_at      TEXT,           -- owned domains: when the records were seen
  checked_at       TEXT,           -- the last look (registrar, DNS)
  error            TEXT,           -- the last failure, for staff
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX domains_expiry ON domains(expires_on) WHERE expires_on IS NOT NULL;
CREATE INDEX domains_site ON domains(site_id);
CREATE INDEX domains_client ON domains(client_id, id);

-- A site's certificate: the level the subscription bought (none, automatic through the
-- server's ACME or the control panel's own SSL, or a bundle the reseller uploaded), and what
-- the site was last seen serving. A bundle's certificate chain is public and kept here; its
-- private key lives only in the OS keyring (entry `ssl:<domain>`).
CREATE TABLE certificates (
  id               INTEGER PRIMARY KEY,
  site_id          INTEGER NOT NULL UNIQUE REFERENCES sites(id) ON DELETE CASCADE,
  domain           TEXT NOT NULL,
  level            TEXT NOT NULL CHECK (level IN ('none', 'automatic', 'bundled')),
  -- pending: not set on the server yet; active: set (and, once checked, served); failed: the
  -- server refused it, or the certificate served is expiring and was not renewed.
  state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'active', 'failed')),
  chain_pem        TEXT,           -- bundled: the certificate and its chain (public)
  issuer           TEXT,
  serial           TEXT,
  not_before       TEXT,           -- RFC 3339
  not_after        TEXT,           -- RFC 3339: the expiry staff watch
  checked_at       TEXT,
  error            TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX certificates_expiry ON certificates(not_after) WHERE not_after IS NOT NULL;
