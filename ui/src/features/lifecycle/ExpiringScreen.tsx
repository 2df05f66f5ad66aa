import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type ExpiringItem } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";
import { ConvertDialog } from "./ConvertDialog";
import { KIND_LABEL, byUrgency, daysLeftLabel } from "./lifecycle";
import "./lifecycle.css";

const WINDOWS = [7, 30, 90];

/// "Expiring soon": trials and fixed terms that end within the window, and those that ended and
/// wait (disabled) for their last backup and deletion; convert one to keep its site.
export function ExpiringScreen() {
  const qc = useQueryClient();
  const [days, setDays] = useState(30);
  const [converting, setConverting] = useState<ExpiringItem | null>(null);
  const q = useQuery({ queryKey: ["expiring", days], queryFn: () => unwrap(commands.listExpiring(days)) });
  const policy = useQuery({ queryKey: ["term-policy"], queryFn: () => unwrap(commands.getTermPolicy()) });
  const check = useMutation({
    mutationFn: () => unwrap(commands.runExpireCheck()),
    onSuccess: () => qc.invalidateQueries(),
  });
  const rows = byUrgency(q.data ?? []);
  return (
    <section>
      <header className="screen-head">
        <div>
          <h1>Expiring soon</h1>
          <p className="muted">
            Trials and fixed terms, registered domains and certificates. At the end of a trial or term its site is disabled and the client mailed
            {policy.data && `; reminders go out ${policy.data.reminderDays.join(" and ")} day(s) before, and ${policy.data.graceDays} days after the end the site is backed up one last time and deleted`}.
          </p>
        </div>
        <div className="actions" style={{ marginTop: 0 }}>
          <button onClick={() => check.mutate()} disabled={check.isPending}>Run expire-check now</button>
        </div>
      </header>
      {check.data && (
        <p className="muted small" role="status">
          {check.data.reminders} reminder(s), {check.data.expired} ended, {check.data.backedUp} last backup(s), {check.data.deleted} deletion(s) queued,
          {" "}{check.data.domainReminders} domain or certificate reminder(s).
          {check.data.held.map((h) => <span key={h}><br />Needs you: {h}</span>)}
        </p>
      )}
      <ErrorNote error={check.error} />
      <div className="chips" role="group" aria-label="Within">
        {WINDOWS.map((d) => (
          <button key={d} aria-pressed={days === d} onClick={() => setDays(d)}>{d} days</button>
        ))}
      </div>
      <div className="panel">
        {q.isPending && <p className="muted">Loading…</p>}
        {q.isError && <ErrorNote error={q.error} />}
        {q.data && rows.length === 0 && <p className="muted">Nothing ends within {days} days.</p>}
        {rows.length > 0 && (
          <table className="simple" aria-label="Expiring soon">
            <thead>
              <tr>
                <th>Kind</th>
                <th>What</th>
                <th>Client</th>
                <th>Sites</th>
                <th>Ends</th>
                <th>When</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((i) => (
                <tr key={`${i.kind}-${i.subscriptionId ?? i.subject}`} className={i.daysLeft < 0 ? "ended" : undefined}>
                  <td><span className="badge">{KIND_LABEL[i.kind] ?? i.kind}</span></td>
                  <td>{i.subject}{i.subscriptionId !== null && <span className="muted small"> #{i.subscriptionId}</span>}</td>
                  <td>{i.clientId !== null ? <a href={href({ section: "clients", id: i.clientId })}>{i.clientName}</a> : i.clientName}</td>
                  <td className="small">{i.sites ?? "—"}</td>
                  <td>{i.expiresOn}</td>
                  <td>
                    {daysLeftLabel(i.daysLeft)}
                    {i.stage === "expired" && (i.kind === "trial" || i.kind === "term") && <span className="badge disabled">disabled</span>}
                    {i.renews && <span className="badge active">renews</span>}
                  </td>
                  <td>
                    {i.subscriptionId !== null && (i.kind === "trial" || i.kind === "term") && (
                      <button className="small" onClick={() => setConverting(i)} aria-label={`Convert subscription ${i.subscriptionId}`}>
                        Convert…
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {converting && converting.subscriptionId !== null && (
        <ConvertDialog subscriptionId={converting.subscriptionId} productCode={converting.subject} onClose={() => setConverting(null)} />
      )}
    </section>
  );
}
