import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type BackupView, type Site } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";
import { backupState, retentionLabel, retentionText, when } from "./lifecycle";
import "./lifecycle.css";

/// A site's backup panel (on the client page): its schedule and retention, its backups, "Back
/// up now", and a restore from a chosen backup after a confirmation.
export function SiteBackups({ site }: { site: Site }) {
  const [open, setOpen] = useState(false);
  if (site.serverId === null) return null;
  return (
    <span className="site-backups">
      <button className="small" aria-expanded={open} onClick={() => setOpen(!open)}>
        Backups
      </button>
      {open && <BackupPanel siteId={site.id} domain={site.domain} />}
    </span>
  );
}

function BackupPanel({ siteId, domain }: { siteId: number; domain: string }) {
  const qc = useQueryClient();
  const [restoring, setRestoring] = useState<BackupView | null>(null);
  const q = useQuery({ queryKey: ["backups", siteId], queryFn: () => unwrap(commands.getBackupPanel(siteId)) });
  const backUp = useMutation({
    mutationFn: () => unwrap(commands.backUpSite(siteId)),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["backups", siteId] });
      qc.invalidateQueries({ queryKey: ["jobs"] });
    },
  });
  if (q.isPending) return <div className="panel backup-panel"><p className="muted">Loading backups…</p></div>;
  if (q.isError) return <div className="panel backup-panel"><ErrorNote error={q.error} /></div>;
  const p = q.data;
  return (
    <div className="panel backup-panel" role="region" aria-label={`Backups of ${domain}`}>
      <div className="backup-head">
        <p className="muted small">
          {p.schedule === "off" ? "No scheduled backups" : `${p.schedule === "daily" ? "Daily" : "Weekly"} backups`}
          {" · "}{retentionText(p.retention)}
          {p.nextBackupAt && ` · next ${when(p.nextBackupAt)} UTC`}
        </p>
        {p.canBackUp && (
          <button className="small" onClick={() => backUp.mutate()} disabled={backUp.isPending}>
            Back up now
          </button>
        )}
      </div>
      {!p.canBackUp && p.site.status !== "deleted" && (
        <p className="muted small">The server of this site cannot back up sites.</p>
      )}
      {backUp.data && (
        <p className="small">
          Backup queued as <a href={href({ section: "jobs" })}>job #{backUp.data.jobId}</a>.
        </p>
      )}
      <ErrorNote error={backUp.error} />
      {p.backups.length === 0 ? (
        <p className="muted small">No backups yet.</p>
      ) : (
        <table className="simple" aria-label={`Backup list of ${domain}`}>
          <thead>
            <tr>
              <th>Taken (UTC)</th>
              <th>Reason</th>
              <th>State</th>
              <th>Retention</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {p.backups.map((v) => (
              <tr key={v.backup.id}>
                <td>{when(v.backup.takenAt ?? v.backup.createdAt)}</td>
                <td>{v.backup.reason}</td>
                <td><span className={`badge ${backupState(v)}`}>{backupState(v)}</span></td>
                <td className="muted small">{retentionLabel(v)}</td>
                <td>
                  {p.canRestore && v.restorable && (
                    <button className="small" onClick={() => setRestoring(v)} aria-label={`Restore backup ${v.backup.id}`}>
                      Restore…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {restoring && <RestoreDialog siteId={siteId} domain={domain} backup={restoring} onClose={() => setRestoring(null)} />}
    </div>
  );
}

function RestoreDialog({ siteId, domain, backup, onClose }: { siteId: number; domain: string; backup: BackupView; onClose: () => void }) {
  const qc = useQueryClient();
  const restore = useMutation({
    mutationFn: () => unwrap(commands.restoreBackup(siteId, backup.backup.id)),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["backups", siteId] });
      qc.invalidateQueries({ queryKey: ["jobs"] });
    },
  });
  return (
    <div className="dialog-backdrop" role="presentation">
      <div className="dialog panel" role="dialog" aria-modal="true" aria-label={`Restore ${domain}`}
        onKeyDown={(e) => { if (e.key === "Escape" && !restore.isPending) onClose(); }}>
        <h2>Restore {domain}?</h2>
        {restore.data === undefined ? (
          <>
            <p>
              The site is put back as it was in the backup taken <strong>{when(backup.backup.takenAt)} UTC</strong> ({backup.backup.reason}).
              Everything changed on it since then is lost.
            </p>
            <ErrorNote error={restore.error} />
            <div className="actions">
              <button onClick={onClose} disabled={restore.isPending}>Cancel</button>
              <button className="primary danger" onClick={() => restore.mutate()} disabled={restore.isPending}>
                Restore this backup
              </button>
            </div>
          </>
        ) : (
          <>
            <p>
              The restore is queued as <a href={href({ section: "jobs" })}>job #{restore.data}</a>; the site's server runs it.
            </p>
            <div className="actions">
              <button className="primary" onClick={onClose}>Close</button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}
