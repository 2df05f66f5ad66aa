import { describe, expect, it } from "vitest";
import type { ChangeReport } from "../src/bindings";
import { KEEP, REMOVE, buildChange, changeSummary, currentChoices, initialChange, isNoChange } from "../src/features/subscriptions/planChange";

const sub = { productCode: "oa-site", choices: ["users=10", "theme=premium"], tierCode: "business" };

describe("plan changes", () => {
  it("asks for nothing when nothing changed", () => {
    const r = buildChange(sub, initialChange(sub));
    expect(r).toEqual({ product: null, setOptions: [], removeOptions: [], tier: null });
    expect(isNoChange(r)).toBe(true);
  });

  it("sends only what differs from the subscription", () => {
    const r = buildChange(sub, {
      product: "oa-site",
      options: { users: "50", theme: REMOVE, ssl: KEEP, domain: "custom" },
      tier: "business",
    });
    expect(r).toEqual({ product: null, setOptions: ["domain=custom", "users=50"], removeOptions: ["theme"], tier: null });
    expect(buildChange(sub, { product: "oa-site", options: { users: "10" }, tier: null }).setOptions).toEqual([]);
  });

  it("changes product and removes the tier", () => {
    const r = buildChange(sub, { product: "drupal-site", options: {}, tier: "" });
    expect(r).toMatchObject({ product: "drupal-site", tier: "" });
    expect(isNoChange(r)).toBe(false);
    expect(buildChange({ ...sub, tierCode: null }, { product: "oa-site", options: {}, tier: "" }).tier).toBeNull();
  });

  it("never removes an option the subscription does not have", () => {
    expect(buildChange(sub, { product: "oa-site", options: { ssl: REMOVE }, tier: null }).removeOptions).toEqual([]);
  });

  it("reads choices", () => {
    expect(currentChoices(sub)).toEqual({ users: "10", theme: "premium" });
  });

  it("says what a change did", () => {
    const up: ChangeReport = {
      when: "immediate", effective: "2026-11-22", oldPrice: "19.00", newPrice: "29.00", jobs: [],
      invoice: { invoiceId: 1, number: "INV-1", clientId: 1, clientName: "A", billingDate: "2026-11-22", currency: "EUR", lines: 2, totalMinor: 400, total: "4.00" },
    };
    expect(changeSummary(up, "EUR")).toBe("Upgraded now (19.00 → 29.00 EUR), effective 2026-11-22; invoice INV-1 for 4.00 EUR.");
    expect(changeSummary({ ...up, when: "at_period_end", effective: "2026-12-01", invoice: null }, "EUR")).toBe(
      "Scheduled for the period end: the new plan (19.00 → 29.00 EUR) starts on 2026-12-01.",
    );
  });
});
