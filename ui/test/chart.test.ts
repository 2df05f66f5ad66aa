import { describe, expect, it } from "vitest";
import { toBars } from "../src/features/dashboard/SubscriptionsChart";

describe("subscriptions chart", () => {
  it("stacks states per product, busiest product first, active first", () => {
    const bars = toBars([
      { productCode: "a", productName: "A", state: "suspended", count: 2 },
      { productCode: "a", productName: "A", state: "active", count: 5 },
      { productCode: "b", productName: "B", state: "active", count: 9 },
    ]);
    expect(bars.map((b) => [b.code, b.total])).toEqual([["b", 9], ["a", 7]]);
    expect(bars[1].parts.map((p) => p.state)).toEqual(["active", "suspended"]);
  });
});
