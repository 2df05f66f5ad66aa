// A small catalog like the demo's, for the order tests.
import type { CatalogOverview, PriceRow, Quote } from "../src/bindings";

const eur = (amount: string, amountMinor: number): PriceRow => ({ currency: "EUR", period: "month", amount, amountMinor, validFrom: "2026-01-01T00:00:00Z" });

export const CATALOG: CatalogOverview = {
  products: [
    { id: 1, code: "oa-site", name: "Open Atrium site", kind: "site", description: "", profile: "openatrium", platform: "Open Atrium 2.6", serverGroup: "atrium", retiredAt: null, prices: [eur("19.00", 1900)] },
    { id: 2, code: "drupal-site", name: "Drupal site", kind: "site", description: "", profile: "standard", platform: "Drupal 10", serverGroup: "drupal", retiredAt: null, prices: [eur("9.95", 995)] },
    { id: 3, code: "old", name: "Retired thing", kind: "site", description: "", profile: "", platform: "", serverGroup: "", retiredAt: "2026-01-01T00:00:00Z", prices: [eur("1.00", 100)] },
  ],
  options: [
    {
      id: 1, productCode: null, code: "users", name: "User quota",
      choices: [
        { id: 1, code: "10", name: "Up to 10 users", quota: null, feature: "", ssl: null, domainMode: null, prices: [eur("0.00", 0)] },
        { id: 2, code: "50", name: "Up to 50 users", quota: null, feature: "", ssl: null, domainMode: null, prices: [eur("10.00", 1000)] },
      ],
    },
    {
      id: 2, productCode: "oa-site", code: "theme", name: "Theme",
      choices: [{ id: 3, code: "premium", name: "Premium theme", quota: null, feature: "", ssl: null, domainMode: null, prices: [] }],
    },
  ],
  tiers: [
    { id: 1, code: "business", name: "Business 8x5", hours: "8x5", channels: ["email"], responseHours: 8, grants: [], retiredAt: null, prices: [eur("49.00", 4900)] },
  ],
  kits: [
    { id: 1, code: "oa-business", name: "Business", productCode: "oa-site", tierCode: "business", choices: ["theme=premium", "users=50"], retiredAt: null, prices: [eur("69.00", 6900)] },
  ],
};

export function quoteFor(domain: string, pay = "manual"): Quote {
  return {
    clientName: "Atelier Lumière", productCode: "drupal-site", productName: "Drupal site", kitCode: null, tierCode: null,
    choices: [], currency: "EUR", period: "month",
    parts: [{ kind: "product", label: "Drupal site", amount: "9.95" }],
    recurring: "9.95", recurringMinor: 995,
    firstFrom: "2026-11-22", firstTo: "2026-12-01", days: 9, daysInPeriod: 30,
    firstNet: "2.99", taxRateBps: 2000, firstTax: "0.60", firstTotal: "3.59", firstTotalMinor: 359, taxNote: null,
    domain: domain.includes(".") ? domain : `${domain}.sites.example.net`, serverName: "sandbox",
    activation: "immediate", pay,
  };
}
