// Pure helpers of the usage screens: how full a quota is, how a quantity reads, the geometry of
// a history chart, and the fleet grouped by client. Quantities only: no money here.
import type { FleetRow } from "../../bindings";

export type Level = "ok" | "near" | "over" | "none";

/// 80% of a quota is "near", 100% "over"; no limit is "none".
export function level(percent: number | null | undefined): Level {
  if (percent == null) return "none";
  if (percent >= 100) return "over";
  if (percent >= 80) return "near";
  return "ok";
}

/// The filled share of a bar, 0-100 (a bar over its quota is full).
export function fill(used: number, limit: number | null | undefined): number {
  if (limit == null || limit <= 0) return used > 0 ? 100 : 0;
  return Math.max(0, Math.min(100, (used * 100) / limit));
}

/// 1536 MB reads "1.5 GB"; other units read as counted.
export function quantity(n: number, unit: string): string {
  if (unit === "MB" && Math.abs(n) >= 1024) {
    const gb = n / 1024;
    return `${gb >= 100 ? Math.round(gb) : Math.round(gb * 10) / 10} GB`;
  }
  return `${new Intl.NumberFormat("en").format(n)} ${unit}`;
}

export function limitText(limit: number | null | undefined, unit: string): string {
  return limit == null ? "unlimited" : quantity(limit, unit);
}

export interface ChartPoint {
  day: string;
  total: number;
  limit: number | null;
}

export interface Geometry {
  /// polyline points of the usage, and of the limit (null without one)
  usage: string;
  limit: string | null;
  /// the top of the scale
  max: number;
  /// where each point sits (x), for labels and hit areas
  xs: number[];
}

/// Scales the points into a `width` x `height` box: the top is 10% above the highest of the
/// usage and the limit, so the quota line is always visible.
export function geometry(input: ChartPoint[], width: number, height: number): Geometry {
  // one day is drawn as a level across the box
  const points = input.length === 1 ? [input[0], input[0]] : input;
  const top = Math.max(1, ...points.map((p) => p.total), ...points.map((p) => p.limit ?? 0)) * 1.1;
  const n = points.length;
  const xs = points.map((_, i) => (n <= 1 ? width / 2 : (i * width) / (n - 1)));
  const y = (v: number) => Math.round((height - (v / top) * height) * 10) / 10;
  const usage = points.map((p, i) => `${Math.round(xs[i] * 10) / 10},${y(p.total)}`).join(" ");
  const hasLimit = points.some((p) => p.limit != null);
  const limit = hasLimit
    ? points
        .map((p, i) => (p.limit == null ? null : `${Math.round(xs[i] * 10) / 10},${y(p.limit)}`))
        .filter((s): s is string => s !== null)
        .join(" ")
    : null;
  return { usage, limit, max: top, xs };
}

export interface ClientGroup {
  clientId: number;
  clientName: string;
  /// the fullest share among its rows
  worst: number;
  rows: FleetRow[];
}

/// The fleet's rows per client, the fullest client first.
export function byClient(rows: FleetRow[]): ClientGroup[] {
  const groups = new Map<number, ClientGroup>();
  for (const r of rows) {
    const g = groups.get(r.clientId) ?? { clientId: r.clientId, clientName: r.clientName, worst: 0, rows: [] };
    g.rows.push(r);
    g.worst = Math.max(g.worst, r.percent);
    groups.set(r.clientId, g);
  }
  return [...groups.values()].sort((a, b) => b.worst - a.worst || a.clientName.localeCompare(b.clientName));
}
