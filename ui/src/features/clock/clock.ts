// The sandbox test clock as the shell shows it.
import type { ClockView } from "../../bindings";

/// The moves offered: +1 day, +7 days, +1 month (30 days).
export const ADVANCES: { days: number; label: string; title: string }[] = [
  { days: 1, label: "+1 day", title: "Advance the clock by one day" },
  { days: 7, label: "+7 days", title: "Advance the clock by a week" },
  { days: 30, label: "+1 month", title: "Advance the clock by 30 days" },
];

/// "2026-12-22 (+30 days)", or the date alone when the clock is on time.
export function clockLabel(c: Pick<ClockView, "now" | "offsetDays">): string {
  const date = c.now.slice(0, 10);
  if (c.offsetDays === 0) return date;
  return `${date} (+${c.offsetDays} day${c.offsetDays === 1 ? "" : "s"})`;
}
