import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";
import { UsageAlerts } from "./UsageAlerts";
import { UsageBars } from "./UsageBars";
import { UsageChart } from "./UsageChart";
import { fill, level } from "./usage";
import "./usage.css";

/// The client page's usage section: per subscription, usage against each quota this period,
/// a history chart of the resource chosen, the client's site quota and its open alerts.
export function ClientUsage({ clientId }: { clientId: number }) {
  const qc = useQueryClient();
  const [chosen, setChosen] = useState<{ sub: number; resource: string } | null>(null);
  const q = useQuery({ queryKey: ["usage", "client", clientId], queryFn: () => unwrap(commands.getClientUsage(clientId)) });
  const collect = useMutation({
    mutationFn: () => unwrap(commands.collectUsage(null)),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["jobs"] }),
  });
  if (q.isPending) return null;
  if (q.isError) return <ErrorNote error={q.error} />;
  const u = q.data;
  const sitesShare = u.sitesLimit != null && u.sitesLimit > 0 ? Math.floor((u.sites * 100) / u.sitesLimit) : null;
  return (
    <div className="panel" aria-label="Usage and quotas">
      <h2>
        Usage and quotas{" "}
        <button className="small" onClick={() => collect.mutate()} disabled={collect.isPending} title="Queue a collection from the servers">
          Collect now
        </button>
        {collect.data && <span className="muted small"> queued {collect.data.length} collection job(s)</span>}
      </h2>
      <ErrorNote error={collect.error} />
      <UsageAlerts alerts={u.alerts} />
      {u.sitesLimit != null && (
        <div className="usage-bar">
          <span>sites in all</span>
          <div className={`meter ${level(sitesShare)}`} role="meter" aria-label={`sites: ${u.sites} of ${u.sitesLimit}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fill(u.sites, u.sitesLimit))}>
            <div style={{ width: `${fill(u.sites, u.sitesLimit)}%` }} />
          </div>
          <span className="figures">
            {u.sites} / {u.sitesLimit} sites {sitesShare != null && <span className={`share ${level(sitesShare)}`}>{sitesShare}%</span>}
          </span>
          <span className="muted small">new orders beyond it need an override</span>
        </div>
      )}
      {u.subscriptions.length === 0 && <p className="muted">No live subscription.</p>}
      {u.subscriptions.map((s) => (
        <div key={s.subscriptionId}>
          <h3>
            #{s.subscriptionId} {s.productName} <span className={`badge ${s.state}`}>{s.state}</span>{" "}
            <span className="muted small">this period: {s.periodStart} – {s.periodEnd}</span>
          </h3>
          <UsageBars
            subscriptionId={s.subscriptionId}
            resources={s.resources}
            selected={chosen?.sub === s.subscriptionId ? chosen.resource : null}
            onSelect={(resource) =>
              setChosen(chosen?.sub === s.subscriptionId && chosen.resource === resource ? null : { sub: s.subscriptionId, resource })
            }
          />
          {chosen?.sub === s.subscriptionId && <UsageChart subscriptionId={s.subscriptionId} resource={chosen.resource} />}
        </div>
      ))}
    </div>
  );
}
