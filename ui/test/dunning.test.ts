import { describe, expect, it } from "vitest";
import { daysOverdueLabel, parseDayList, parsePolicy, policyText, reportSummary, stepLabel } from "../src/features/dunning/dunning";
import { clockLabel } from "../src/features/clock/clock";

describe("the dunning policy form", () => {
  it("round-trips a policy through its text", () => {
    const p = { reminderDays: [1, 7], retryDays: [3, 10], graceDays: 14, terminateAfterDays: 60 };
    expect(policyText(p)).toEqual({ reminderDays: "1, 7", retryDays: "3, 10", graceDays: "14", terminateAfterDays: "60" });
    expect(parsePolicy(policyText(p))).toEqual({ policy: p });
  });

  it("reads day lists loosely, sorted and without repeats", () => {
    expect(parseDayList("7, 1 1;3")).toEqual([1, 3, 7]);
    expect(parseDayList("")).toEqual([]);
    expect(parseDayList("1, two")).toBe("'two' is not a whole number of days");
    expect(parseDayList("-1")).toBe("'-1' is not a whole number of days");
  });

  it("puts each problem beside its field", () => {
    expect(parsePolicy({ reminderDays: "1, x", retryDays: "", graceDays: "", terminateAfterDays: "1.5" })).toEqual({
      errors: {
        reminderDays: "'x' is not a whole number of days",
        graceDays: "is required (0: never)",
        terminateAfterDays: "'1.5' is not a whole number of days",
      },
    });
  });

  it("says steps and reports in words", () => {
    expect(stepLabel("reminder:7")).toBe("reminder (day 7)");
    expect(stepLabel("retry:3")).toBe("charge retry (day 3)");
    expect(stepLabel("suspend")).toBe("suspended");
    expect(stepLabel("other")).toBe("other");
    expect(daysOverdueLabel(1)).toBe("1 day");
    expect(daysOverdueLabel(12)).toBe("12 days");
    expect(reportSummary({ overdue: 1, reminders: 2, retries: 1, suspended: 0, terminated: 0, cancelled: 0, jobs: [4, 5, 6] })).toBe(
      "1 overdue invoice, 2 reminders, 1 charge retry, 0 suspended, 0 terminated, 0 cancellations took effect; 3 jobs queued.",
    );
  });
});

describe("the sandbox clock", () => {
  it("shows the date and how far ahead it is", () => {
    expect(clockLabel({ now: "2026-12-22T09:00:00Z", offsetDays: 0 })).toBe("2026-12-22");
    expect(clockLabel({ now: "2026-12-22T09:00:00Z", offsetDays: 1 })).toBe("2026-12-22 (+1 day)");
    expect(clockLabel({ now: "2026-12-22T09:00:00Z", offsetDays: 30 })).toBe("2026-12-22 (+30 days)");
  });
});
