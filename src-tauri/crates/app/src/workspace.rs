use std::path::{Path, PathBuf};

use hostdesk_store::{audit, settings, Connection, Store};
use serde::Serialize;

use crate::{Clock, Result};

/// One open workspace: the database, the clock and who is working.
pub struct Workspace {
    store: Store,
    path: Option<PathBuf>,
    clock: Clock,
}

/// What every write knows: when (from the clock) and who (from settings).
pub struct Ctx {
    pub at: String,
    /// The same instant with milliseconds: the job queue's time format (jobs enqueued in this
    /// write are ready from it).
    pub at_ms: String,
    pub actor: String,
}

impl Ctx {
    /// Records one change in the audit log, in the caller's transaction.
    pub fn audit(
        &self,
        tx: &Connection,
        entity: &str,
        entity_id: Option<i64>,
        action: &str,
        before: Option<&impl Serialize>,
        after: Option<&impl Serialize>,
    ) -> Result<()> {
        audit::record(
            tx,
            audit::Change {
                at: &self.at,
                actor: &self.actor,
                entity,
                entity_id,
                action,
                before: before.and_then(|v| serde_json::to_value(v).ok()),
                after: after.and_then(|v| serde_json::to_value(v).ok()),
            },
        )?;
        Ok(())
    }
}

/// The settings key holding the staff name written into the audit log.
pub const STAFF_NAME: &str = "staff_name";

impl Workspace {
    /// Opens (creating and migrating as needed) the workspace database at `path`.
    pub fn open(path: &Path, clock: Clock) -> Result<Workspace> {
        let store = Store::open(path)?;
        Ok(Workspace {
            store,
            path: Some(path.to_path_buf()),
            clock,
        })
    }

    pub fn open_in_memory(clock: Clock) -> Result<Workspace> {
        Ok(Workspace {
            store: Store::open_in_memory()?,
            path: None,
            clock,
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn conn(&self) -> &hostdesk_store::Connection {
        self.store.conn()
    }

    /// The staff name from settings, or the OS user.
    pub fn actor(&self) -> Result<String> {
        if let Some(name) = settings::get(self.conn(), STAFF_NAME)? {
            if !name.trim().is_empty() {
                return Ok(name);
            }
        }
        Ok(os_user())
    }

    /// Runs `f` in one transaction (a savepoint, so writes nest inside [`Workspace::batch`]):
    /// everything it writes lands together, or nothing does.
    pub fn write<T>(&mut self, f: impl FnOnce(&Connection, &Ctx) -> Result<T>) -> Result<T> {
        let now = self.clock.now();
        let ctx = Ctx {
            at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            at_ms: crate::clock::millis(now),
            actor: self.actor()?,
        };
        let tx = self.store.conn_mut().savepoint()?;
        let out = f(&tx, &ctx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs several use cases as one transaction: if `f` fails, none of their writes remain.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Workspace) -> Result<T>) -> Result<T> {
        self.conn().execute_batch("SAVEPOINT batch")?;
        match f(self) {
            Ok(v) => {
                self.conn().execute_batch("RELEASE batch")?;
                Ok(v)
            }
            Err(e) => {
                self.conn()
                    .execute_batch("ROLLBACK TO batch; RELEASE batch")?;
                Err(e)
            }
        }
    }
}

fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}
