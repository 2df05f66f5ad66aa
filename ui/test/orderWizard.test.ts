import { describe, expect, it } from "vitest";
import {
  PREVIEW_LABEL,
  buildRequest,
  choosePlan,
  domainSuffix,
  errorsByStep,
  firstChargeLabel,
  firstErrorStep,
  initialState,
  localErrors,
  modifierLabel,
  nextStep,
  optionsFor,
  previousStep,
  priceLabel,
  taxRateLabel,
  type WizardState,
} from "../src/features/orders/orderWizard";
import { CATALOG } from "./orderFixtures";

const client = { id: 7, name: "Atelier Lumière", currency: "EUR" };

describe("order wizard steps", () => {
  it("asks for what each step needs, and only that", () => {
    const s = initialState();
    expect(localErrors(s, "client")).toEqual({ clientId: "Choose a client." });
    const c = initialState(client);
    expect(localErrors(c, "client")).toEqual({});
    expect(localErrors(c, "product")).toEqual({ product: "Choose a product or a kit." });
    expect(localErrors(c, "options")).toEqual({});
    expect(localErrors(c, "tier")).toEqual({});
    expect(localErrors({ ...c, label: "  " }, "domain")).toEqual({ domain: "Type a name for the site." });
    expect(localErrors({ ...c, label: "acme" }, "domain")).toEqual({});
  });

  it("moves forward and back within the steps", () => {
    expect(nextStep("client")).toBe("product");
    expect(nextStep("domain")).toBe("review");
    expect(nextStep("review")).toBe("review");
    expect(previousStep("product")).toBe("client");
    expect(previousStep("client")).toBe("client");
  });

  it("puts the core's field errors on the step that shows the field", () => {
    const fields = { domain: "is taken", pay: "choose stored or manual", options: "no option x", kit: "no kit 'z'", odd: "?" };
    expect(errorsByStep(fields)).toEqual({
      domain: { domain: "is taken", pay: "choose stored or manual" },
      options: { options: "no option x" },
      product: { kit: "no kit 'z'" },
      review: { odd: "?" },
    });
    expect(firstErrorStep(fields)).toBe("product");
    expect(firstErrorStep({ clientId: "closed" })).toBe("client");
    expect(firstErrorStep({})).toBeNull();
  });
});

describe("the order request", () => {
  it("is nothing until a client and a plan are chosen", () => {
    expect(buildRequest(initialState())).toBeNull();
    expect(buildRequest(initialState(client))).toBeNull();
  });

  it("sends a product with its options sorted, no tier, and the label as typed", () => {
    let s: WizardState = choosePlan(initialState(client), CATALOG, { kind: "product", code: "drupal-site" });
    s = { ...s, options: { users: "50", theme: "" }, label: " acme ", pay: "later" };
    expect(buildRequest(s)).toEqual({
      clientId: 7, product: "drupal-site", kit: null, options: ["users=50"], tier: null, period: "month",
      domain: "acme", server: null, pay: "later",
    });
  });

  it("starts a kit from its own choices and tier, and lets staff replace them", () => {
    const s = choosePlan(initialState(client), CATALOG, { kind: "kit", code: "oa-business" });
    expect(s.options).toEqual({ theme: "premium", users: "50" });
    expect(s.tier).toBeNull();
    const req = buildRequest({ ...s, options: { ...s.options, users: "10" }, tier: "business", label: "x" });
    expect(req).toMatchObject({ product: null, kit: "oa-business", options: ["theme=premium", "users=10"], tier: "business" });
  });

  it("previews with a stand-in label until a name is typed", () => {
    const s = choosePlan(initialState(client), CATALOG, { kind: "product", code: "drupal-site" });
    expect(buildRequest(s, true)?.domain).toBe(PREVIEW_LABEL);
    expect(buildRequest(s)?.domain).toBe("");
    expect(buildRequest({ ...s, label: "acme" }, true)?.domain).toBe("acme");
  });

  it("sends the registration term only with a registered domain, and only when not the default", () => {
    const s = { ...choosePlan(initialState(client), CATALOG, { kind: "product", code: "drupal-site" }), label: "lumiere.fr" };
    expect(buildRequest({ ...s, domainYears: 3 }, false, "registered")?.domainYears).toBe(3);
    expect(buildRequest({ ...s, domainYears: 3 }, false, "subdomain")).not.toHaveProperty("domainYears");
    expect(buildRequest({ ...s, domainYears: 1 }, false, "registered")).not.toHaveProperty("domainYears");
    expect(errorsByStep({ domainYears: "a registration lasts 1 to 10 years" })).toEqual({
      domain: { domainYears: "a registration lasts 1 to 10 years" },
    });
  });

  it("leaves pay to the core's default until staff choose", () => {
    const s = choosePlan(initialState(client), CATALOG, { kind: "product", code: "drupal-site" });
    expect(buildRequest(s)?.pay).toBeNull();
  });

  it("changing plan resets the options and tier", () => {
    const kit = choosePlan(initialState(client), CATALOG, { kind: "kit", code: "oa-business" });
    const back = choosePlan({ ...kit, tier: "business" }, CATALOG, { kind: "product", code: "oa-site" });
    expect(back.options).toEqual({});
    expect(back.tier).toBeNull();
  });
});

describe("catalog text", () => {
  it("offers a product's own options and the shared ones", () => {
    expect(optionsFor(CATALOG, "oa-site").map((o) => o.code)).toEqual(["users", "theme"]);
    expect(optionsFor(CATALOG, "drupal-site").map((o) => o.code)).toEqual(["users"]);
    expect(optionsFor(CATALOG, null)).toEqual([]);
  });

  it("writes prices and modifiers from the core's strings", () => {
    expect(priceLabel(CATALOG.products[0].prices, "EUR", "month")).toBe("19.00 EUR / month");
    expect(priceLabel(CATALOG.products[0].prices, "USD", "month")).toBe("no USD price per month");
    const [free, more] = CATALOG.options[0].choices;
    expect(modifierLabel(free, "EUR", "month")).toBe("included");
    expect(modifierLabel(more, "EUR", "month")).toBe("+10.00 EUR");
    expect(modifierLabel(more, "GBP", "month")).toBe("");
  });

  it("shows the master domain after a label", () => {
    expect(domainSuffix("acme.sites.example.net", "acme")).toBe(".sites.example.net");
    expect(domainSuffix("order-preview.sites.example.net", PREVIEW_LABEL)).toBe(".sites.example.net");
    expect(domainSuffix("acme.com", "acme.com")).toBe("");
    expect(domainSuffix("acme.sites.example.net", "other")).toBe("");
  });

  it("writes the first period and the tax rate", () => {
    expect(firstChargeLabel({ firstFrom: "2026-11-22", firstTo: "2026-12-01", days: 9, daysInPeriod: 30 })).toBe(
      "2026-11-22 – 2026-12-01 (9/30 days)",
    );
    expect(taxRateLabel(2000)).toBe("20%");
    expect(taxRateLabel(550)).toBe("5.5%");
    expect(taxRateLabel(0)).toBe("0%");
    expect(taxRateLabel(1925)).toBe("19.25%");
  });
});
