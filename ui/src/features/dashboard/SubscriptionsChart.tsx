import { useQuery } from "@tanstack/react-query";
import { commands, type ProductStateCount } from "../../bindings";
import { unwrap } from "../../lib/ipc";

const STATES = ["active", "pending", "suspended", "cancelled", "expired"] as const;
const COLORS: Record<string, string> = {
  active: "#0d6e6e",
  pending: "#5b8def",
  suspended: "#e29a2d",
  cancelled: "#98a2b3",
  expired: "#cfd4dc",
};

interface Bar {
  code: string;
  name: string;
  total: number;
  parts: { state: string; count: number }[];
}

export function toBars(rows: ProductStateCount[]): Bar[] {
  const bars = new Map<string, Bar>();
  for (const r of rows) {
    const bar = bars.get(r.productCode) ?? { code: r.productCode, name: r.productName, total: 0, parts: [] };
    bar.parts.push({ state: r.state, count: r.count });
    bar.total += r.count;
    bars.set(r.productCode, bar);
  }
  for (const b of bars.values()) b.parts.sort((x, y) => STATES.indexOf(x.state as never) - STATES.indexOf(y.state as never));
  return [...bars.values()].sort((a, b) => b.total - a.total);
}

/// Subscriptions per product, stacked by state: what sells and what is in trouble at a glance.
export function SubscriptionsChart() {
  const q = useQuery({ queryKey: ["subscriptions-by-product"], queryFn: () => unwrap(commands.getSubscriptionsByProduct()) });
  const bars = toBars(q.data ?? []);
  if (bars.length === 0) return null;
  const max = Math.max(...bars.map((b) => b.total));
  const used = STATES.filter((s) => bars.some((b) => b.parts.some((p) => p.state === s)));
  return (
    <div className="panel chart" aria-label="Subscriptions by product and state">
      <h2>Subscriptions by product</h2>
      {bars.map((b) => (
        <div className="bar-row" key={b.code}>
          <div className="bar-label" title={b.code}>{b.name}</div>
          <svg className="bar" viewBox={`0 0 ${max} 10`} preserveAspectRatio="none" role="img"
            aria-label={`${b.name}: ${b.parts.map((p) => `${p.count} ${p.state}`).join(", ")}`}>
            {b.parts.reduce<{ x: number; els: React.ReactElement[] }>(
              (acc, p) => {
                acc.els.push(<rect key={p.state} x={acc.x} y={0} width={p.count} height={10} fill={COLORS[p.state] ?? "#667085"} />);
                acc.x += p.count;
                return acc;
              },
              { x: 0, els: [] },
            ).els}
          </svg>
          <div className="bar-total">{b.total}</div>
        </div>
      ))}
      <div className="legend">
        {used.map((s) => (
          <span key={s}><i style={{ background: COLORS[s] }} /> {s}</span>
        ))}
      </div>
    </div>
  );
}
