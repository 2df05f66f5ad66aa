import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type Job } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";

const STATES = ["queued", "running", "failed", "dead", "succeeded", "cancelled"] as const;
const LABEL: Record<string, string> = { failed: "retrying" };

function time(t: string | null) {
  return t ? t.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "—";
}

/// The queue: every job, its attempts and errors; staff retry or cancel. Updates live from the
/// runner's events (see useLiveQueue in App).
export function JobsScreen() {
  const [state, setState] = useState<string | null>(null);
  const [server, setServer] = useState<number | null>(null);
  const servers = useQuery({ queryKey: ["servers"], queryFn: () => unwrap(commands.listServers()) });
  const [selected, setSelected] = useState<number | null>(null);
  const queue = useQuery({ queryKey: ["queue"], queryFn: () => unwrap(commands.getQueue()) });
  const list = useQuery({ queryKey: ["jobs", state, server], queryFn: () => unwrap(commands.listJobs(state, server)) });
  const count = (s: string) => queue.data?.counts.find((c) => c.state === s)?.count ?? 0;
  const total = queue.data?.counts.reduce((n, c) => n + c.count, 0) ?? 0;

  return (
    <section>
      <h1>Jobs</h1>
      {queue.data?.runnerError && (
        <div className="error-note" role="alert">The queue is not running here: {queue.data.runnerError}</div>
      )}
      <div className="chips" role="toolbar" aria-label="Filter by state">
        <button aria-pressed={state === null} onClick={() => setState(null)}>All {total}</button>
        {STATES.map((s) => (
          <button key={s} aria-pressed={state === s} onClick={() => setState(s)} className={`chip ${s}`}>
            {LABEL[s] ?? s} <span data-testid={`jobs-${s}`}>{count(s)}</span>
          </button>
        ))}
      </div>
      {(servers.data?.length ?? 0) > 0 && (
        <div className="toolbar">
          <select aria-label="Filter by server" value={server ?? ""} onChange={(e) => setServer(e.target.value ? Number(e.target.value) : null)}>
            <option value="">All servers</option>
            {servers.data?.map((s) => (
              <option key={s.id} value={s.id}>{s.name}{s.simulated ? " (simulated)" : ""} — {s.statusText}</option>
            ))}
          </select>
        </div>
      )}
      <ErrorNote error={list.error} />
      {list.data && list.data.length === 0 && (
        <div className="empty"><p>No jobs{state ? ` ${LABEL[state] ?? state}` : ""}.</p>
          <p className="muted">Provisioning work (sites, manager accounts, suspensions) is queued here when orders are placed.</p></div>
      )}
      <div className={`columns jobs${selected !== null ? "" : " single"}`}>
        <div className="panel">
          <table className="simple" aria-label="Jobs">
            <thead><tr><th>#</th><th>Kind</th><th>State</th><th>Tries</th><th>Last error</th></tr></thead>
            <tbody>
              {list.data?.map((j: Job) => (
                <tr key={j.id} className={selected === j.id ? "active" : ""} onClick={() => setSelected(j.id)} tabIndex={0}
                  onKeyDown={(e) => { if (e.key === "Enter") setSelected(j.id); }}>
                  <td>{j.id}</td>
                  <td><code>{j.kind}</code></td>
                  <td><span className={`badge ${j.state}`}>{LABEL[j.state] ?? j.state}</span></td>
                  <td>{j.attempts}/{j.maxAttempts}</td>
                  <td className="small muted">{j.lastError ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {selected !== null && <JobDetailPanel id={selected} />}
      </div>
    </section>
  );
}

function JobDetailPanel({ id }: { id: number }) {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["job", id], queryFn: () => unwrap(commands.getJob(id)) });
  const refresh = () => qc.invalidateQueries();
  const retry = useMutation({ mutationFn: () => unwrap(commands.retryJob(id)), onSuccess: refresh });
  const cancel = useMutation({ mutationFn: () => unwrap(commands.cancelJob(id)), onSuccess: refresh });
  if (!q.data) return <div className="panel"><ErrorNote error={q.error} /></div>;
  const { job, attempts } = q.data;
  return (
    <div className="panel" aria-label={`Job ${id}`}>
      <h2>Job #{job.id} <span className={`badge ${job.state}`}>{LABEL[job.state] ?? job.state}</span></h2>
      <p className="small muted">{job.kind} · key <code>{job.key}</code>{job.serverId !== null && ` · server ${job.serverId}`}
        {job.deps.length > 0 && ` · after #${job.deps.join(", #")}`}</p>
      <div className="actions" style={{ justifyContent: "flex-start" }}>
        {["dead", "failed", "cancelled"].includes(job.state) && <button onClick={() => retry.mutate()}>Retry now</button>}
        {["queued", "failed"].includes(job.state) && <button onClick={() => cancel.mutate()}>Cancel</button>}
      </div>
      <ErrorNote error={retry.error ?? cancel.error} />
      <h3>Attempts</h3>
      {attempts.length === 0 && <p className="muted">Not started yet{job.state === "queued" ? " — waiting for its turn or its prerequisites" : ""}.</p>}
      <table className="simple">
        <tbody>
          {attempts.map((a) => (
            <tr key={a.attempt}>
              <td>{a.attempt}</td>
              <td className="small">{time(a.startedAt)}</td>
              <td><span className={`badge ${a.outcome ?? "running"}`}>{a.outcome ?? "running"}</span></td>
              <td className="small">{a.durationMs !== null ? `${a.durationMs} ms` : ""}</td>
              <td className="small muted">{a.error ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Payload</h3>
      <pre className="json">{JSON.stringify(job.payload, null, 2)}</pre>
      <h3>Result</h3>
      <pre className="json">{JSON.stringify(job.result, null, 2)}</pre>
      {job.state === "failed" && <p className="small muted">Next attempt at {time(job.runAfter)}.</p>}
    </div>
  );
}
