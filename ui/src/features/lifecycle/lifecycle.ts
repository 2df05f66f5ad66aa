// Pure helpers of the backup panel and the "Expiring soon" screen: labels only; every rule
// (retention, schedule, expiry steps) is decided in Rust and arrives in the view types.
import type { BackupView, ExpiringItem, KeptFor, RetentionPolicy } from "../../bindings";

/// "daily + monthly", or null when retention does not name it.
export function keptLabel(k: KeptFor | null): string | null {
  if (!k) return null;
  const parts = [k.daily && "daily", k.weekly && "weekly", k.monthly && "monthly"].filter(Boolean);
  return parts.length ? parts.join(" + ") : null;
}

/// What the retention column says about a backup.
export function retentionLabel(v: BackupView): string {
  if (v.backup.reason === "final") return "kept (last backup before deletion)";
  const kept = keptLabel(v.keptFor);
  if (kept) return `kept: ${kept}`;
  if (v.prunable) return "dropped at the next prune";
  return "—";
}

/// The backup's state as staff read it: a backup whose job died is "failed".
export function backupState(v: BackupView): string {
  if (v.backup.state === "requested" && v.jobState === "dead") return "failed";
  if (v.backup.state === "requested") return v.jobState === "running" ? "running" : "queued";
  return v.backup.state;
}

export function retentionText(r: RetentionPolicy): string {
  return `keep ${r.daily} daily, ${r.weekly} weekly, ${r.monthly} monthly`;
}

/// "in 3 days", "today", "ended 2 days ago".
export function daysLeftLabel(days: number): string {
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  if (days > 1) return `in ${days} days`;
  return days === -1 ? "ended yesterday" : `ended ${-days} days ago`;
}

/// The rows of the "Expiring soon" screen, by urgency: ended (waiting for deletion) first,
/// then soonest.
export function byUrgency(items: ExpiringItem[]): ExpiringItem[] {
  return [...items].sort((a, b) => a.daysLeft - b.daysLeft || a.subject.localeCompare(b.subject));
}

export const KIND_LABEL: Record<string, string> = {
  trial: "Trial",
  term: "Fixed term",
  domain: "Domain",
  certificate: "Certificate",
};

/// "2026-03-02 16:37" from an RFC 3339 instant.
export function when(iso: string | null): string {
  return iso ? iso.slice(0, 16).replace("T", " ") : "—";
}
