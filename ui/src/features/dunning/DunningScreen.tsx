import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";
import { DunningPolicyForm } from "./DunningPolicyForm";
import { daysOverdueLabel, reportSummary, stepLabel } from "./dunning";
import "../orders/orders.css";

/// Invoices in dunning (the Invoices screen's "Dunning" tab): stage, days overdue, balance and
/// the steps taken; a sweep on demand; the policy beside.
export function DunningScreen() {
  const qc = useQueryClient();
  const [all, setAll] = useState(false);
  const q = useQuery({ queryKey: ["dunning", all], queryFn: () => unwrap(commands.listDunning(all)) });
  const run = useMutation({
    mutationFn: () => unwrap(commands.runDunning()),
    onSuccess: () => qc.invalidateQueries(),
  });
  const rows = q.data ?? [];
  return (
    <div className="columns dunning">
      <div>
        <div className="toolbar">
          <button className="primary" onClick={() => run.mutate()} disabled={run.isPending}>
            {run.isPending ? "Running…" : "Run dunning now"}
          </button>
          <label className="small"><input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> show settled</label>
          <span className="muted" data-testid="dunning-count">{rows.length} in dunning</span>
        </div>
        {run.data && <div className="report" role="status" data-testid="dunning-report">{reportSummary(run.data)}</div>}
        <ErrorNote error={run.error ?? q.error} />
        {q.data && rows.length === 0 ? (
          <div className="empty"><p>No invoice is in dunning.</p>
            <p className="muted">An issued invoice unpaid past its due date enters dunning at the next sweep (the runner's, or “Run dunning now”).</p></div>
        ) : (
          <div className="panel">
            <table className="simple" aria-label="Invoices in dunning">
              <thead><tr><th>Invoice</th><th>Client</th><th>Stage</th><th className="num">Overdue</th><th className="num">Balance</th><th>Steps taken</th></tr></thead>
              <tbody>
                {rows.map(({ row: d, balance, daysOverdue }) => (
                  <tr key={d.invoiceId}>
                    <td><code>{d.invoiceNumber ?? d.invoiceId}</code><div className="muted small">due {d.startedOn}</div></td>
                    <td><a href={href({ section: "clients", id: d.clientId })}>{d.clientName}</a></td>
                    <td><span className={`badge ${d.stage}`}>{d.stage}</span></td>
                    <td className="num">{d.stage === "settled" ? "—" : daysOverdueLabel(daysOverdue)}</td>
                    <td className="num">{balance} {d.currency}</td>
                    <td className="small">{d.done.length ? d.done.map(stepLabel).join(" · ") : <span className="muted">none yet</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <DunningPolicyForm />
    </div>
  );
}
