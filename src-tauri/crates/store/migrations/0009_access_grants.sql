-- Schema version 9: access grants. A support tier grants access outside the client's site (an
-- account and a role on the provider's issue tracker, a user with a role on the hosting site);
-- one row per (subscription, target, role), carried out by an `access.grant` job.
CREATE TABLE access_grants (
  id              INTEGER PRIMARY KEY,
  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  client_id       INTEGER NOT NULL REFERENCES clients(id),
  target          TEXT NOT NULL, -- issue-tracker, hosting, ...
  role            TEXT NOT NULL, -- the role's name on the target (customer, manager, ...)
  state           TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'granted', 'failed', 'revoked')),
  job_id          INTEGER REFERENCES jobs(id), -- the access.grant job carrying it out
  remote_user_id  TEXT, -- the account's id on the target, saved as soon as it exists
  remote_login    TEXT,
  error           TEXT, -- the last failure, for staff
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  UNIQUE (subscription_id, target, role)
) STRICT;
CREATE INDEX access_grants_client ON access_grants(client_id, id);
CREATE INDEX access_grants_state ON access_grants(state, id);
