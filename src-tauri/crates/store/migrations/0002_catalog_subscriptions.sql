-- Schema version 2: the catalog (products, versioned prices, options and choices, support
-- tiers, kits), subscriptions with their chosen options and quotas, and sites.
CREATE TABLE products (
  id           INTEGER PRIMARY KEY,
  code         TEXT NOT NULL UNIQUE,
  name         TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('site', 'account')),
  description  TEXT NOT NULL DEFAULT '',
  profile      TEXT NOT NULL DEFAULT '',
  platform     TEXT NOT NULL DEFAULT '',
  server_group TEXT NOT NULL DEFAULT '',
  retired_at   TEXT,
  created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE tiers (
  id             INTEGER PRIMARY KEY,
  code           TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  hours          TEXT NOT NULL CHECK (hours IN ('8x5', '24x7')),
  channels       TEXT NOT NULL, -- JSON array of email / phone / forum
  response_hours INTEGER NOT NULL CHECK (response_hours > 0),
  grants         TEXT NOT NULL DEFAULT '[]', -- JSON array of {target, role}
  retired_at     TEXT,
  created_at     TEXT NOT NULL
) STRICT;

-- An option belongs to one product, or to every product when product_id is NULL.
CREATE TABLE options (
  id         INTEGER PRIMARY KEY,
  product_id INTEGER REFERENCES products(id),
  code       TEXT NOT NULL,
  name       TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX options_code ON options(coalesce(product_id, 0), code);

CREATE TABLE choices (
  id              INTEGER PRIMARY KEY,
  option_id       INTEGER NOT NULL REFERENCES options(id),
  code            TEXT NOT NULL,
  name            TEXT NOT NULL,
  quota_resource  TEXT,
  quota_limit     INTEGER CHECK (quota_limit IS NULL OR quota_limit >= 0),
  feature         TEXT NOT NULL DEFAULT '',
  ssl             TEXT CHECK (ssl IN ('none', 'automatic', 'bundled')),
  domain_mode     TEXT CHECK (domain_mode IN ('subdomain', 'owned', 'registered')),
  position        INTEGER NOT NULL,
  UNIQUE (option_id, code)
) STRICT;

CREATE TABLE kits (
  id         INTEGER PRIMARY KEY,
  code       TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL,
  product_id INTEGER NOT NULL REFERENCES products(id),
  tier_id    INTEGER REFERENCES tiers(id),
  retired_at TEXT,
  created_at TEXT NOT NULL
) STRICT;
CREATE TABLE kit_choices (
  kit_id    INTEGER NOT NULL REFERENCES kits(id),
  choice_id INTEGER NOT NULL REFERENCES choices(id),
  PRIMARY KEY (kit_id, choice_id)
) STRICT;

-- Versioned prices of products, choices (modifiers), tiers and kits. A price change adds a row;
-- rows are never updated, so history is never rewritten.
CREATE TABLE prices (
  id           INTEGER PRIMARY KEY,
  owner_kind   TEXT NOT NULL CHECK (owner_kind IN ('product', 'choice', 'tier', 'kit')),
  owner_id     INTEGER NOT NULL,
  currency     TEXT NOT NULL,
  period       TEXT NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
  amount_minor INTEGER NOT NULL,
  valid_from   TEXT NOT NULL,
  UNIQUE (owner_kind, owner_id, currency, period, valid_from)
) STRICT;

CREATE TABLE subscriptions (
  id            INTEGER PRIMARY KEY,
  client_id     INTEGER NOT NULL REFERENCES clients(id),
  product_id    INTEGER NOT NULL REFERENCES products(id),
  kit_id        INTEGER REFERENCES kits(id),
  tier_id       INTEGER REFERENCES tiers(id),
  currency      TEXT NOT NULL,
  period        TEXT NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
  price_minor   INTEGER NOT NULL, -- the recurring price, frozen when ordered
  renewal_price_minor INTEGER, -- set when staff apply a price change at renewal
  state         TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'active', 'suspended', 'cancelled', 'expired')),
  anchor_day    INTEGER NOT NULL CHECK (anchor_day BETWEEN 1 AND 31),
  started_on    TEXT NOT NULL,
  next_due_on   TEXT,
  expires_on    TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
) STRICT;
CREATE INDEX subscriptions_client ON subscriptions(client_id, state);
CREATE INDEX subscriptions_product ON subscriptions(product_id, client_id);

CREATE TABLE subscription_choices (
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  option_id       INTEGER NOT NULL REFERENCES options(id),
  choice_id       INTEGER NOT NULL REFERENCES choices(id),
  PRIMARY KEY (subscription_id, option_id)
) STRICT;

-- The limits bought; NULL limit = unlimited.
CREATE TABLE subscription_quotas (
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  resource        TEXT NOT NULL,
  quota_limit     INTEGER CHECK (quota_limit IS NULL OR quota_limit >= 0),
  PRIMARY KEY (subscription_id, resource)
) STRICT;

CREATE TABLE sites (
  id              INTEGER PRIMARY KEY,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
  domain          TEXT NOT NULL UNIQUE,
  server_id       INTEGER,
  platform        TEXT NOT NULL DEFAULT '',
  profile         TEXT NOT NULL DEFAULT '',
  remote_id       TEXT,
  status          TEXT NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'active', 'disabled', 'deleted')),
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX sites_subscription ON sites(subscription_id);
