import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, type UsageAlert } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";
import { level, quantity } from "./usage";
import "./usage.css";

const UNITS: Record<string, string> = { disk_mb: "MB", bandwidth_mb: "MB" };

/// The open 80% / 100% alerts: the notice in the app, each dismissed once read.
export function UsageAlerts({ alerts, showClient = false }: { alerts: UsageAlert[]; showClient?: boolean }) {
  const qc = useQueryClient();
  const dismiss = useMutation({
    mutationFn: (id: number) => unwrap(commands.dismissUsageAlert(id)),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["usage"] }),
  });
  if (alerts.length === 0) return null;
  return (
    <div className="alerts" role="region" aria-label="Quota alerts">
      <ul className="plain">
        {alerts.map((a) => {
          const unit = UNITS[a.resource] ?? a.resource;
          return (
            <li key={a.id}>
              <span className={`alert-badge ${level(a.threshold)}`}>{a.threshold}%</span>
              <span>
                {showClient && (
                  <>
                    <a href={href({ section: "clients", id: a.clientId })}>{a.clientName}</a>{" "}
                  </>
                )}
                subscription #{a.subscriptionId}: {a.resource} at {quantity(a.used, unit)} of {quantity(a.limit, unit)}
                <span className="muted small">
                  {" "}
                  · period from {a.periodStart} · {a.at.slice(0, 16).replace("T", " ")}
                  {a.outboxId != null && " · mailed to the client"}
                </span>
              </span>
              <button className="small" onClick={() => dismiss.mutate(a.id)} disabled={dismiss.isPending}>
                Dismiss
              </button>
            </li>
          );
        })}
      </ul>
      <ErrorNote error={dismiss.error} />
    </div>
  );
}
