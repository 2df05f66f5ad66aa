import { describe, expect, it } from "vitest";
import { orderPrice, orderWhat, placedQuote, progressLabel, progressPercent, progressText, progressTone, stamp } from "../src/features/orders/orderProgress";
import { quoteFor } from "./orderFixtures";

describe("order progress", () => {
  it("is a whole percentage of the jobs done", () => {
    expect(progressPercent(0, 0)).toBe(0);
    expect(progressPercent(1, 3)).toBe(33);
    expect(progressPercent(2, 3)).toBe(67);
    expect(progressPercent(5, 5)).toBe(100);
    expect(progressPercent(6, 5)).toBe(100);
  });

  it("says what an order waits for", () => {
    expect(progressText({ jobsDone: 0, jobsTotal: 0, progress: "awaiting_payment" })).toBe("waiting for the payment");
    expect(progressText({ jobsDone: 0, jobsTotal: 0, progress: "awaiting_approval" })).toBe("waiting for approval");
    expect(progressText({ jobsDone: 2, jobsTotal: 5, progress: "provisioning" })).toBe("2 of 5 jobs done");
    expect(progressLabel("awaiting_payment")).toBe("awaiting payment");
    expect(progressLabel("something_new")).toBe("something new");
    expect(progressTone("completed")).toBe("succeeded");
    expect(progressTone("failed")).toBe("dead");
    expect(progressTone("awaiting_payment")).toBe("queued");
  });

  it("reads what was ordered from the stored preview", () => {
    const q = quoteFor("acme");
    const order = { quote: JSON.stringify(q) };
    expect(placedQuote(order)?.productName).toBe("Drupal site");
    expect(orderWhat(order)).toBe("Drupal site");
    expect(orderPrice(order)).toBe("3.59 EUR first, then 9.95 EUR / month");
    const kit = { quote: JSON.stringify({ ...q, parts: [{ kind: "kit", label: "Business (kit)", amount: "69.00" }], productName: "Open Atrium site" }) };
    expect(orderWhat(kit)).toBe("Business (kit) — Open Atrium site");
    expect(orderWhat({ quote: "not json" })).toBe("—");
    expect(orderPrice({ quote: "{}" })).toBe("");
  });

  it("writes stamps without the T and Z", () => {
    expect(stamp("2026-11-22T03:25:08.123Z")).toBe("2026-11-22 03:25:08");
    expect(stamp(null)).toBe("—");
  });
});
