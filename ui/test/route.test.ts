import { describe, expect, it } from "vitest";
import { href, parseRoute } from "../src/lib/route";

describe("routes", () => {
  it("parses sections and ids from the hash", () => {
    expect(parseRoute("#/clients/42")).toEqual({ section: "clients", id: 42 });
    expect(parseRoute("#/catalog")).toEqual({ section: "catalog" });
    expect(parseRoute("")).toEqual({ section: "dashboard" });
    expect(parseRoute("#/nowhere/3")).toEqual({ section: "dashboard", id: 3 });
    expect(parseRoute("#/clients/-1")).toEqual({ section: "clients" });
  });
  it("round-trips", () => {
    expect(parseRoute(href({ section: "clients", id: 7 }))).toEqual({ section: "clients", id: 7 });
  });
});
