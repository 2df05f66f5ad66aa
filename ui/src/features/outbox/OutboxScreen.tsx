import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type OutboxMail } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";
import { MailSettingsForm } from "./MailSettingsForm";

const STATES = ["queued", "sending", "sent", "failed"] as const;
/// The badge colour of each state (the job badges' palette).
const BADGE: Record<string, string> = { queued: "queued", sending: "running", sent: "succeeded", failed: "dead" };

function time(t: string | null) {
  return t ? t.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "—";
}

/// Outgoing mail: every message with its state, recipient, attempts and last error; a failed
/// one can be retried. The SMTP settings sit behind their own button.
export function OutboxScreen() {
  const [state, setState] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [editing, setEditing] = useState(false);
  const list = useQuery({ queryKey: ["outbox", state], queryFn: () => unwrap(commands.listOutbox(state)) });
  const settings = useQuery({ queryKey: ["mail-settings"], queryFn: () => unwrap(commands.getMailSettings()) });
  const retry = useRetry();

  return (
    <section>
      <header className="screen-head">
        <h1>Outbox</h1>
        <button className="primary" onClick={() => setEditing(true)}>SMTP settings</button>
      </header>
      {settings.data && !settings.data.configured && !editing && (
        <div className="error-note" role="alert">
          No SMTP server is set: mail stays queued until one is. <button className="small" onClick={() => setEditing(true)}>Set it up</button>
        </div>
      )}
      {editing && settings.data && <MailSettingsForm initial={settings.data} onDone={() => setEditing(false)} />}
      <ErrorNote error={settings.error} />
      <div className="chips" role="toolbar" aria-label="Filter by state">
        <button aria-pressed={state === null} onClick={() => setState(null)}>All</button>
        {STATES.map((s) => (
          <button key={s} aria-pressed={state === s} onClick={() => setState(s)}>{s}</button>
        ))}
      </div>
      <ErrorNote error={list.error ?? retry.error} />
      {list.data && list.data.length === 0 && (
        <div className="empty"><p>No mail{state ? ` ${state}` : ""}.</p>
          <p className="muted">Welcome mails, payment notices and reminders are queued here and sent by the job runner.</p></div>
      )}
      {list.data && list.data.length > 0 && (
        <div className={`columns jobs${selected !== null ? "" : " single"}`}>
          <div className="panel">
            <table className="simple" aria-label="Outbox">
              <thead><tr><th>#</th><th>State</th><th>To</th><th>Subject</th><th>Tries</th><th>Last error</th><th /></tr></thead>
              <tbody>
                {list.data.map((m: OutboxMail) => (
                  <OutboxRow key={m.id} mail={m} active={selected === m.id} onSelect={() => setSelected(m.id)}
                    onRetry={() => retry.mutate(m.id)} retrying={retry.isPending} />
                ))}
              </tbody>
            </table>
          </div>
          {selected !== null && <MailPanel id={selected} />}
        </div>
      )}
    </section>
  );
}

/// Requeues a failed mail (and its send job).
function useRetry() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => unwrap(commands.retryOutboxMail(id)),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["outbox"] });
      qc.invalidateQueries({ queryKey: ["outbox-mail"] });
      qc.invalidateQueries({ queryKey: ["queue"] });
    },
  });
}

function OutboxRow({ mail: m, active, onSelect, onRetry, retrying }: {
  mail: OutboxMail; active: boolean; onSelect: () => void; onRetry: () => void; retrying: boolean;
}) {
  return (
    <tr className={active ? "active" : ""} onClick={onSelect} tabIndex={0} onKeyDown={(e) => { if (e.key === "Enter") onSelect(); }}>
      <td>{m.id}</td>
      <td><span className={`badge ${BADGE[m.state] ?? ""}`}>{m.state}</span></td>
      <td>{m.toName ? `${m.toName} <${m.toAddr}>` : m.toAddr}</td>
      <td>{m.subject}</td>
      <td className="num">{m.attempts}</td>
      <td className="small muted">{m.lastError ?? ""}</td>
      <td>
        {m.state === "failed" && (
          <button className="small" disabled={retrying} aria-label={`Retry mail ${m.id}`}
            onClick={(e) => { e.stopPropagation(); onRetry(); }}>Retry</button>
        )}
      </td>
    </tr>
  );
}

function MailPanel({ id }: { id: number }) {
  const q = useQuery({ queryKey: ["outbox-mail", id], queryFn: () => unwrap(commands.getOutboxMail(id)) });
  const retry = useRetry();
  if (!q.data) return <div className="panel"><ErrorNote error={q.error} /></div>;
  const { mail: m, job, attempts } = q.data;
  return (
    <div className="panel" aria-label={`Mail ${id}`}>
      <h2>{m.subject} <span className={`badge ${BADGE[m.state] ?? ""}`}>{m.state}</span></h2>
      <p className="small muted">
        To {m.toName ? `${m.toName} <${m.toAddr}>` : m.toAddr} · {m.kind} · queued {time(m.createdAt)}
        {m.sentAt && ` · sent ${time(m.sentAt)}`}
      </p>
      <p className="small muted">Message-ID <code>{m.messageId}</code> · key <code>{m.dedupeKey}</code></p>
      {m.lastError && <div className="error-note" role="alert">{m.lastError}</div>}
      {m.state === "failed" && (
        <div className="actions" style={{ justifyContent: "flex-start" }}>
          <button onClick={() => retry.mutate(id)} disabled={retry.isPending}>Retry now</button>
        </div>
      )}
      <ErrorNote error={retry.error} />
      <h3>Message</h3>
      <pre className="json" style={{ whiteSpace: "pre-wrap", maxHeight: 320 }} data-testid="mail-body">{m.bodyText}</pre>
      <h3>Attempts</h3>
      {job && <p className="small muted">Job #{job.id}: {job.state}, {job.attempts} of {job.maxAttempts} attempts
        {job.state === "failed" && ` — next at ${time(job.runAfter)}`}</p>}
      {attempts.length === 0 && <p className="muted">Not tried yet.</p>}
      <table className="simple">
        <tbody>
          {attempts.map((a) => (
            <tr key={a.attempt}>
              <td>{a.attempt}</td>
              <td className="small">{time(a.startedAt)}</td>
              <td><span className={`badge ${a.outcome ?? "running"}`}>{a.outcome ?? "running"}</span></td>
              <td className="small muted">{a.error ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
