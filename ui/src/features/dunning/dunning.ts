// The dunning policy as typed in its form, and how the steps taken are said.
import type { DunningPolicy, DunningReport } from "../../bindings";

export interface PolicyText {
  reminderDays: string;
  retryDays: string;
  graceDays: string;
  terminateAfterDays: string;
}

export function policyText(p: DunningPolicy): PolicyText {
  return {
    reminderDays: p.reminderDays.join(", "),
    retryDays: p.retryDays.join(", "),
    graceDays: String(p.graceDays),
    terminateAfterDays: String(p.terminateAfterDays),
  };
}

const WHOLE = /^\d+$/;

/// "1, 7" -> [1, 7] (sorted, no repeats), or what is wrong with the text.
export function parseDayList(text: string): number[] | string {
  const parts = text.split(/[\s,;]+/).filter((x) => x !== "");
  const bad = parts.find((x) => !WHOLE.test(x));
  if (bad !== undefined) return `'${bad}' is not a whole number of days`;
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

function parseDay(text: string): number | string {
  const t = text.trim();
  if (t === "") return "is required (0: never)";
  return WHOLE.test(t) ? Number(t) : `'${t}' is not a whole number of days`;
}

/// The policy to send, or the problems to show beside each field. The core checks the ranges.
export function parsePolicy(t: PolicyText): { policy: DunningPolicy } | { errors: Record<string, string> } {
  const reminderDays = parseDayList(t.reminderDays);
  const retryDays = parseDayList(t.retryDays);
  const graceDays = parseDay(t.graceDays);
  const terminateAfterDays = parseDay(t.terminateAfterDays);
  const errors: Record<string, string> = {};
  if (typeof reminderDays === "string") errors.reminderDays = reminderDays;
  if (typeof retryDays === "string") errors.retryDays = retryDays;
  if (typeof graceDays === "string") errors.graceDays = graceDays;
  if (typeof terminateAfterDays === "string") errors.terminateAfterDays = terminateAfterDays;
  if (Object.keys(errors).length > 0) return { errors };
  return {
    policy: {
      reminderDays: reminderDays as number[],
      retryDays: retryDays as number[],
      graceDays: graceDays as number,
      terminateAfterDays: terminateAfterDays as number,
    },
  };
}

/// A step taken, in words: "reminder:7" -> "reminder (day 7)".
export function stepLabel(step: string): string {
  const [kind, day] = step.split(":");
  if (kind === "reminder" && day) return `reminder (day ${day})`;
  if (kind === "retry" && day) return `charge retry (day ${day})`;
  if (kind === "suspend") return "suspended";
  if (kind === "terminate") return "terminated";
  return step;
}

export function daysOverdueLabel(days: number): string {
  return days === 1 ? "1 day" : `${days} days`;
}

/// What a sweep did, in one sentence.
export function reportSummary(r: DunningReport): string {
  const parts = [
    `${r.overdue} overdue invoice${r.overdue === 1 ? "" : "s"}`,
    `${r.reminders} reminder${r.reminders === 1 ? "" : "s"}`,
    `${r.retries} charge retr${r.retries === 1 ? "y" : "ies"}`,
    `${r.suspended} suspended`,
    `${r.terminated} terminated`,
    `${r.cancelled} cancellation${r.cancelled === 1 ? "" : "s"} took effect`,
  ];
  return `${parts.join(", ")}; ${r.jobs.length} job${r.jobs.length === 1 ? "" : "s"} queued.`;
}
