import { describe, expect, it } from "vitest";
import { formatMinor } from "../src/lib/money";

describe("formatMinor", () => {
  it("writes minor units in the currency's own decimals, exactly", () => {
    expect(formatMinor(1260, "EUR")).toBe("12.60");
    expect(formatMinor(-2484, "EUR")).toBe("-24.84");
    expect(formatMinor(5, "EUR")).toBe("0.05");
    expect(formatMinor(1500, "JPY")).toBe("1500");
    expect(formatMinor(12345, "KWD")).toBe("12.345");
    expect(formatMinor(900719925474099, "EUR")).toBe("9007199254740.99");
  });
});
