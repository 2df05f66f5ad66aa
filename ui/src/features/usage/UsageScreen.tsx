import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";
import { UsageAlerts } from "./UsageAlerts";
import { byClient, fill, level, quantity } from "./usage";
import "./usage.css";

const FLOORS = [
  { min: 0, label: "All with a quota" },
  { min: 50, label: "50% and more" },
  { min: 80, label: "Near (80%+)" },
  { min: 100, label: "Over (100%+)" },
];

const UNITS: Record<string, string> = { disk_mb: "MB", bandwidth_mb: "MB" };

/// The fleet view: the clients nearest to or over their quotas this period, and the alerts.
export function UsageScreen() {
  const qc = useQueryClient();
  const [min, setMin] = useState(50);
  const q = useQuery({ queryKey: ["usage", "fleet", min], queryFn: () => unwrap(commands.getUsageFleet(min, 300)) });
  const collect = useMutation({
    mutationFn: () => unwrap(commands.collectUsage(null)),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["jobs"] }),
  });
  const groups = byClient(q.data?.rows ?? []);
  return (
    <section>
      <header className="screen-head">
        <div>
          <h1>Usage</h1>
          <p className="muted">
            Each subscription's usage this billing period against its quotas, fullest first. Last collection:{" "}
            {q.data?.lastCollected ? q.data.lastCollected.slice(0, 16).replace("T", " ") : "never"}.
          </p>
        </div>
        <div className="actions" style={{ marginTop: 0 }}>
          <button className="primary" onClick={() => collect.mutate()} disabled={collect.isPending}>
            Collect now
          </button>
        </div>
      </header>
      {collect.data && (
        <p className="muted small">
          Queued {collect.data.length} collection job(s): see <a href={href({ section: "jobs" })}>Jobs</a>.
        </p>
      )}
      <ErrorNote error={collect.error} />
      {q.isError && <ErrorNote error={q.error} />}
      {q.data && q.data.alerts.length > 0 && (
        <div className="panel">
          <h2>Alerts</h2>
          <UsageAlerts alerts={q.data.alerts} showClient />
        </div>
      )}
      <div className="chips" role="group" aria-label="How full">
        {FLOORS.map((f) => (
          <button key={f.min} aria-pressed={min === f.min} onClick={() => setMin(f.min)}>
            {f.label}
          </button>
        ))}
      </div>
      <div className="panel">
        {q.isPending && <p className="muted">Loading…</p>}
        {q.data && groups.length === 0 && <p className="muted">No subscription is at {min}% of a quota.</p>}
        {groups.length > 0 && (
          <table className="simple">
            <thead>
              <tr>
                <th>Client</th>
                <th>Subscription</th>
                <th>Resource</th>
                <th style={{ width: "30%" }}>Usage</th>
                <th className="num">Share</th>
                <th>Period ends</th>
              </tr>
            </thead>
            <tbody>
              {groups.flatMap((g) =>
                g.rows.map((r, i) => {
                  const unit = UNITS[r.resource] ?? r.resource;
                  const lv = level(r.percent);
                  return (
                    <tr key={`${r.subscriptionId}-${r.resource}`}>
                      <td>{i === 0 && <a href={href({ section: "clients", id: g.clientId })}>{g.clientName}</a>}</td>
                      <td>
                        #{r.subscriptionId} <span className="muted small">{r.productName}</span>
                      </td>
                      <td>{r.resource}</td>
                      <td>
                        <div className="usage-bar" style={{ gridTemplateColumns: "1fr auto" }}>
                          <div className={`meter ${lv}`} role="meter" aria-label={`${g.clientName} ${r.resource}: ${r.percent}%`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fill(r.used, r.limit))}>
                            <div style={{ width: `${fill(r.used, r.limit)}%` }} />
                          </div>
                          <span className="figures">
                            {quantity(r.used, unit)} / {quantity(r.limit, unit)}
                          </span>
                        </div>
                      </td>
                      <td className={`num share ${lv}`}>{r.percent}%</td>
                      <td className="muted">{r.periodEnd}</td>
                    </tr>
                  );
                }),
              )}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
