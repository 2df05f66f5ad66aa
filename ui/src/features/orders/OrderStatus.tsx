import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type OrderView } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";
import { progressLabel, progressPercent, progressText, stamp } from "./orderProgress";
import "./orders.css";

const JOB_STATE: Record<string, string> = { failed: "retrying" };

/// An order's state and its provisioning: a progress bar of jobs done, and Approve when the
/// order waits for staff.
export function OrderProgressBar({ view }: { view: OrderView }) {
  const pct = progressPercent(view.jobsDone, view.jobsTotal);
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}
      aria-label={`Order ${view.order.id} provisioning`}>
      <div style={{ width: `${pct}%` }} />
      <span data-testid={`order-progress-${view.order.id}`}>
        {view.jobsTotal > 0 ? `${progressLabel(view.progress)} · ${progressText(view)}` : progressText(view)}
      </span>
    </div>
  );
}

export function ApproveButton({ view }: { view: OrderView }) {
  const qc = useQueryClient();
  const approve = useMutation({
    mutationFn: () => unwrap(commands.approveOrder(view.order.id)),
    onSuccess: () => qc.invalidateQueries(),
  });
  if (view.order.state !== "awaiting_approval") return null;
  return (
    <>
      <button className="small primary" onClick={() => approve.mutate()} disabled={approve.isPending}>Approve</button>
      <ErrorNote error={approve.error} />
    </>
  );
}

/// The order's jobs, as getOrder reports them (kept fresh by the runner's events).
export function OrderJobs({ id }: { id: number }) {
  const q = useQuery({ queryKey: ["order", id], queryFn: () => unwrap(commands.getOrder(id)) });
  if (!q.data) return <ErrorNote error={q.error} />;
  const jobs = q.data.jobs;
  if (jobs.length === 0) return <p className="muted small">No jobs yet.</p>;
  return (
    <table className="simple order-jobs" aria-label={`Jobs of order ${id}`}>
      <thead><tr><th>#</th><th>Kind</th><th>State</th><th>Tries</th><th>Last error, or finished</th></tr></thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id}>
            <td><a href={href({ section: "jobs" })}>{j.id}</a></td>
            <td><code>{j.kind}</code></td>
            <td><span className={`badge ${j.state}`}>{JOB_STATE[j.state] ?? j.state}</span></td>
            <td>{j.attempts}/{j.maxAttempts}</td>
            <td className="small muted">{j.lastError ?? (j.finishedAt ? stamp(j.finishedAt) : "")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
