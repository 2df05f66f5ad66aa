//! The sandbox's simulated backups (table `sandbox_backups`), behind the sandbox driver's
//! `backup`, `backup_delete`, `restore` and `list_backups`: a backup is a copy of the site's
//! users taken at once (a backup id at once, no task to wait for), a restore puts them back.
//! Everything here is labelled as simulated.

use hostdesk_remote::{BackupInfo, RemoteError};
use hostdesk_store::{Connection, OptionalExtension};

const ENDPOINT: &str = "sandbox (simulated)";

fn refused(reason: String) -> RemoteError {
    RemoteError::Remote { reason }
}

fn db(e: impl std::fmt::Display) -> RemoteError {
    RemoteError::Http {
        endpoint: ENDPOINT.into(),
        status: 503,
        body: format!("sandbox database: {e}"),
    }
}

/// The site's users, if it exists and is not deleted.
fn live_users(c: &Connection, site: &str) -> Result<String, RemoteError> {
    let row: Option<(String, String)> = c
        .query_row(
            "SELECT status, users FROM sandbox_sites WHERE name = ?1",
            [site],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    match row {
        Some((status, users)) if status != "deleted" => Ok(users),
        Some(_) => Err(refused(format!(
            "the sandbox site {site} is deleted (simulated)"
        ))),
        None => Err(refused(format!(
            "the sandbox has no site named {site} (simulated)"
        ))),
    }
}

/// Takes a backup (or finds the one with this description): its id.
pub(crate) fn backup(
    c: &Connection,
    site: &str,
    description: &str,
    at: &str,
) -> Result<String, RemoteError> {
    let users = live_users(c, site)?;
    if let Some(id) = c
        .query_row(
            "SELECT id FROM sandbox_backups WHERE site = ?1 AND description = ?2",
            (site, description),
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(db)?
    {
        return Ok(id.to_string());
    }
    // A plausible size: 1 MiB of files and 4 KiB per user.
    let size = 1_048_576 + 4096 * i64::try_from(users.matches("\"uid\"").count()).unwrap_or(0);
    c.execute(
        "INSERT INTO sandbox_backups (site, description, users, size_bytes, taken_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (site, description, &users, size, at),
    )
    .map_err(db)?;
    Ok(c.last_insert_rowid().to_string())
}

/// The site's backups, newest first.
pub(crate) fn list(c: &Connection, site: &str) -> Result<Vec<BackupInfo>, RemoteError> {
    live_users(c, site)?;
    let mut stmt = c
        .prepare(
            "SELECT id, description, size_bytes, taken_at FROM sandbox_backups
              WHERE site = ?1 ORDER BY taken_at DESC, id DESC",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map([site], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, description, size, taken) = row.map_err(db)?;
        out.push(BackupInfo {
            backup_id: id.to_string(),
            description,
            taken_at: chrono::DateTime::parse_from_rfc3339(&taken)
                .ok()
                .map(|t| t.timestamp()),
            size_bytes: u64::try_from(size).ok(),
        });
    }
    Ok(out)
}

fn parse_id(id: &str) -> Result<i64, RemoteError> {
    id.trim()
        .parse()
        .map_err(|_| RemoteError::InvalidRequest(format!("'{id}' is not a sandbox backup id")))
}

/// Deletes a backup; true when it was already gone.
pub(crate) fn delete(c: &Connection, site: &str, id: &str) -> Result<bool, RemoteError> {
    let id = parse_id(id)?;
    let n = c
        .execute(
            "DELETE FROM sandbox_backups WHERE id = ?1 AND site = ?2",
            (id, site),
        )
        .map_err(db)?;
    Ok(n == 0)
}

/// Puts the site back as the backup has it (its users).
pub(crate) fn restore(c: &Connection, site: &str, id: &str, at: &str) -> Result<(), RemoteError> {
    live_users(c, site)?;
    let id = parse_id(id)?;
    let users: Option<String> = c
        .query_row(
            "SELECT users FROM sandbox_backups WHERE id = ?1 AND site = ?2",
            (id, site),
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    let Some(users) = users else {
        return Err(refused(format!(
            "the sandbox site {site} has no backup {id} (simulated)"
        )));
    };
    c.execute(
        "UPDATE sandbox_sites SET users = ?2, updated_at = ?3 WHERE name = ?1",
        (site, &users, at),
    )
    .map_err(db)?;
    Ok(())
}
