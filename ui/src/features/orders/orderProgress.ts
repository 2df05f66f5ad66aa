// How an order's state and provisioning progress are said on screen.
import type { Order, OrderView, Quote } from "../../bindings";

export const PROGRESS_LABEL: Record<string, string> = {
  awaiting_payment: "awaiting payment",
  awaiting_approval: "awaiting approval",
  payment_failed: "payment failed",
  provisioning: "provisioning",
  completed: "completed",
  failed: "failed",
};

export function progressLabel(progress: string): string {
  return PROGRESS_LABEL[progress] ?? progress.replace(/_/g, " ");
}

/// The badge class of a progress (the shared badge colours).
export function progressTone(progress: string): string {
  switch (progress) {
    case "completed":
      return "succeeded";
    case "failed":
    case "payment_failed":
      return "dead";
    case "provisioning":
      return "running";
    default:
      return "queued";
  }
}

/// Jobs done of jobs in all, as a whole percentage (0 when there are none yet).
export function progressPercent(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.max(0, Math.min(100, Math.round((100 * done) / total)));
}

/// "2 of 5 jobs done", or what the order waits for when it has no jobs yet.
export function progressText(v: Pick<OrderView, "jobsDone" | "jobsTotal" | "progress">): string {
  if (v.jobsTotal === 0) {
    if (v.progress === "awaiting_payment") return "waiting for the payment";
    if (v.progress === "awaiting_approval") return "waiting for approval";
    return "no jobs yet";
  }
  return `${v.jobsDone} of ${v.jobsTotal} jobs done`;
}

/// The price preview an order was placed with (stored as JSON text), or null if unreadable.
export function placedQuote(order: Pick<Order, "quote">): Quote | null {
  try {
    const q = JSON.parse(order.quote) as Quote;
    return q && typeof q === "object" && "productName" in q ? q : null;
  } catch {
    return null;
  }
}

/// What was ordered, in a few words: "Business (kit) — Open Atrium site".
export function orderWhat(order: Pick<Order, "quote">): string {
  const q = placedQuote(order);
  if (!q) return "—";
  const kit = q.parts.find((p) => p.kind === "kit");
  return kit ? `${kit.label} — ${q.productName}` : q.productName;
}

/// "24.84 EUR first, then 69.00 EUR / month".
export function orderPrice(order: Pick<Order, "quote">): string {
  const q = placedQuote(order);
  if (!q) return "";
  return `${q.firstTotal} ${q.currency} first, then ${q.recurring} ${q.currency} / ${q.period}`;
}

/// The time part of an RFC 3339 stamp, as the Jobs screen writes it.
export function stamp(t: string | null | undefined): string {
  return t ? t.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "—";
}
