import { useQuery } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";
import { geometry, limitText, quantity } from "./usage";
import "./usage.css";

const W = 600;
const H = 150;

/// A subscription's history of one resource: what counts against the quota day by day (the
/// peak, or the MB served since the period started) and the quota as a dashed line.
export function UsageChart({ subscriptionId, resource, days = 90 }: { subscriptionId: number; resource: string; days?: number }) {
  const q = useQuery({
    queryKey: ["usage", "history", subscriptionId, resource, days],
    queryFn: () => unwrap(commands.getUsageHistory(subscriptionId, resource, days)),
  });
  if (q.isPending) return <p className="muted small">Loading the history…</p>;
  if (q.isError) return <ErrorNote error={q.error} />;
  const h = q.data;
  if (h.points.length === 0) {
    return <p className="muted small">No {h.label} collected in the last {days} days.</p>;
  }
  const g = geometry(h.points, W, H);
  const first = h.points[0];
  const last = h.points[h.points.length - 1];
  const summary = `${h.label} from ${first.day} to ${last.day}: now ${quantity(last.total, h.unit)} of ${limitText(last.limit, h.unit)}`;
  return (
    <figure className="usage-chart" style={{ margin: "8px 0" }}>
      <figcaption className="small">
        <strong>{h.label}</strong>{" "}
        <span className="muted">
          — {h.flow ? "MB served since each period started" : "daily peak"}, quota dashed; scale up to {quantity(Math.round(g.max), h.unit)}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={summary}>
        {g.limit && <polyline className="limit" points={g.limit} />}
        <polyline className="usage" points={g.usage} />
      </svg>
      <div className="axis">
        <span>{first.day}</span>
        <span>{last.day}</span>
      </div>
      {h.periods.length > 0 && (
        <table className="simple small" style={{ marginTop: 6 }}>
          <thead>
            <tr>
              <th>Period</th>
              <th className="num">Used</th>
              <th className="num">Quota</th>
              <th className="num">Share</th>
            </tr>
          </thead>
          <tbody>
            {h.periods.map((p) => (
              <tr key={p.periodStart}>
                <td>{p.periodStart} – {p.periodEnd}</td>
                <td className="num">{quantity(p.used, h.unit)}</td>
                <td className="num">{limitText(p.limit, h.unit)}</td>
                <td className="num">{p.percent != null ? `${p.percent}%` : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </figure>
  );
}
