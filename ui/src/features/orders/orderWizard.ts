// The order wizard's pure parts: its steps, what each step needs before moving on, the request
// it sends, and where the core's field errors belong. Prices are the core's strings: nothing
// here computes an amount.
import type { CatalogOverview, Choice, Kit, OrderRequest, PriceRow, ProductOption, Quote } from "../../bindings";

export const STEPS = ["client", "product", "options", "tier", "domain", "review"] as const;
export type Step = (typeof STEPS)[number];

export const STEP_LABEL: Record<Step, string> = {
  client: "Client",
  product: "Product",
  options: "Options",
  tier: "Support",
  domain: "Domain & payment",
  review: "Preview",
};

export type Pay = "stored" | "manual" | "later";

export interface Plan {
  kind: "product" | "kit";
  code: string;
}

export interface WizardState {
  clientId: number | null;
  clientName: string;
  /// The client's currency: which catalog prices to show.
  currency: string;
  plan: Plan | null;
  period: string;
  /// option code -> choice code ("" or absent: none).
  options: Record<string, string>;
  /// null: the default (the kit's tier, or none for a product); "" none; else a tier code.
  tier: string | null;
  /// One label (a subdomain of the server's master domain) or a full domain.
  label: string;
  /// null: the core's default (stored when the client has a stored payment method, else manual).
  pay: Pay | null;
  /// The registration term of a domain registered for the client (sent only with that mode).
  domainYears: number;
}

export function initialState(client?: { id: number; name: string; currency: string }): WizardState {
  return {
    clientId: client?.id ?? null,
    clientName: client?.name ?? "",
    currency: client?.currency ?? "",
    plan: null,
    period: "month",
    options: {},
    tier: null,
    label: "",
    pay: null,
    domainYears: 1,
  };
}

/// The step a field of the core's errors belongs to.
const FIELD_STEP: Record<string, Step> = {
  clientId: "client",
  product: "product",
  kit: "product",
  period: "product",
  price: "product",
  options: "options",
  tier: "tier",
  domain: "domain",
  server: "domain",
  pay: "domain",
  domainYears: "domain",
};

export function stepOfField(field: string): Step {
  return FIELD_STEP[field] ?? "review";
}

export type FieldErrors = Record<string, string>;

/// The core's field errors, grouped by the step that shows them.
export function errorsByStep(fields: FieldErrors): Partial<Record<Step, FieldErrors>> {
  const out: Partial<Record<Step, FieldErrors>> = {};
  for (const [field, message] of Object.entries(fields)) {
    const step = stepOfField(field);
    out[step] = { ...out[step], [field]: message };
  }
  return out;
}

/// The earliest step with an error (where a failed Place sends staff back to).
export function firstErrorStep(fields: FieldErrors): Step | null {
  const steps = new Set(Object.keys(fields).map(stepOfField));
  return STEPS.find((s) => steps.has(s)) ?? null;
}

/// What a step needs before the wizard moves on (the core checks the rest).
export function localErrors(s: WizardState, step: Step): FieldErrors {
  switch (step) {
    case "client":
      return s.clientId === null ? { clientId: "Choose a client." } : {};
    case "product":
      return s.plan === null ? { product: "Choose a product or a kit." } : {};
    case "domain":
      return s.label.trim() === "" ? { domain: "Type a name for the site." } : {};
    default:
      return {};
  }
}

export function nextStep(step: Step): Step {
  return STEPS[Math.min(STEPS.indexOf(step) + 1, STEPS.length - 1)];
}

export function previousStep(step: Step): Step {
  return STEPS[Math.max(STEPS.indexOf(step) - 1, 0)];
}

/// While no name is typed, previews are asked for this label (the price does not depend on the
/// domain); the preview then hides the domain.
export const PREVIEW_LABEL = "order-preview";

/// The request for the core, or null while there is nothing to ask about. With `preview`, an
/// empty label is replaced by [`PREVIEW_LABEL`] so the price shows before the name is chosen.
/// `domainMode`: the chosen domain option's mode; a registered domain carries its term.
export function buildRequest(s: WizardState, preview = false, domainMode: string | null = null): OrderRequest | null {
  if (s.clientId === null || s.plan === null) return null;
  const label = s.label.trim();
  return {
    clientId: s.clientId,
    product: s.plan.kind === "product" ? s.plan.code : null,
    kit: s.plan.kind === "kit" ? s.plan.code : null,
    options: Object.entries(s.options)
      .filter(([, choice]) => choice !== "")
      .map(([option, choice]) => `${option}=${choice}`)
      .sort(),
    tier: s.tier || null,
    period: s.period,
    domain: label === "" && preview ? PREVIEW_LABEL : label,
    server: null,
    pay: s.pay,
    ...(domainMode === "registered" && s.domainYears !== 1 ? { domainYears: s.domainYears } : {}),
  };
}

/// The product a plan sells (a kit's product).
export function planProduct(catalog: CatalogOverview, plan: Plan | null): string | null {
  if (!plan) return null;
  if (plan.kind === "product") return plan.code;
  return catalog.kits.find((k) => k.code === plan.code)?.productCode ?? null;
}

export function findKit(catalog: CatalogOverview, plan: Plan | null): Kit | null {
  if (!plan || plan.kind !== "kit") return null;
  return catalog.kits.find((k) => k.code === plan.code) ?? null;
}

/// Choosing a plan resets the options to the kit's choices (or none) and the tier to its default.
export function choosePlan(s: WizardState, catalog: CatalogOverview, plan: Plan): WizardState {
  const kit = findKit(catalog, plan);
  const options: Record<string, string> = {};
  for (const c of kit?.choices ?? []) {
    const [option, choice] = c.split("=");
    if (option && choice !== undefined) options[option] = choice;
  }
  return { ...s, plan, options, tier: null };
}

/// The options offered with a product: its own and those offered with every product.
export function optionsFor(catalog: CatalogOverview, productCode: string | null): ProductOption[] {
  if (!productCode) return [];
  return catalog.options.filter((o) => o.productCode === null || o.productCode === productCode);
}

export function priceIn(prices: PriceRow[], currency: string, period: string): PriceRow | undefined {
  return prices.find((p) => p.currency === currency && p.period === period);
}

/// "19.00 EUR / month", or why there is no price.
export function priceLabel(prices: PriceRow[], currency: string, period: string): string {
  const p = priceIn(prices, currency, period);
  return p ? `${p.amount} ${currency} / ${period}` : `no ${currency} price per ${period}`;
}

/// A choice's price modifier: "+10.00 EUR", "included", or "" when it has no price.
export function modifierLabel(choice: Choice, currency: string, period: string): string {
  const p = priceIn(choice.prices, currency, period);
  if (!p) return "";
  return p.amountMinor === 0 ? "included" : `+${p.amount} ${currency}`;
}

/// The part of the quote's domain after the label that was sent: ".sites.example.net".
export function domainSuffix(quoteDomain: string, sentLabel: string): string {
  const label = sentLabel.trim().toLowerCase();
  if (label === "" || label.includes(".")) return "";
  return quoteDomain.startsWith(`${label}.`) ? quoteDomain.slice(label.length) : "";
}

/// "2026-11-22 – 2026-12-01 (9/30 days)": the prorated first charge.
export function firstChargeLabel(q: Pick<Quote, "firstFrom" | "firstTo" | "days" | "daysInPeriod">): string {
  return `${q.firstFrom} – ${q.firstTo} (${q.days}/${q.daysInPeriod} days)`;
}

/// A tax rate in basis points as a percentage: 2000 -> "20%", 550 -> "5.5%".
export function taxRateLabel(bps: number): string {
  return `${Number((bps / 100).toFixed(2))}%`;
}

export const ACTIVATION_TEXT: Record<string, string> = {
  on_payment: "provisioned once the first invoice is paid",
  immediate: "provisioned at once",
  approval: "provisioned after staff approve the order",
};

export const PAY_TEXT: Record<Pay, string> = {
  stored: "Charge the stored payment method",
  manual: "Manual payment (bank transfer, cash): recorded by staff",
  later: "Later: invoice now, provision without waiting (products that start at once)",
};
