// Pure helpers of the domain and certificate panels: labels only; every rule (what a mode
// needs, when a certificate is late) is decided in Rust and arrives in the view types.
import type { CatalogOverview, Certificate, Domain, DomainAvailability } from "../../bindings";
import { optionsFor, planProduct, type WizardState } from "../orders/orderWizard";

export const MODE_LABELS: Record<string, string> = {
  subdomain: "Subdomain of the server",
  owned: "The client's own domain",
  registered: "Registered for the client",
};

/// "2027-11-22", or "—".
export function day(v: string | null | undefined): string {
  return v ? v.slice(0, 10) : "—";
}

/// Whole days from `today` (YYYY-MM-DD) to `date` (YYYY-MM-DD or RFC 3339).
export function daysUntil(date: string, today: string): number {
  const a = Date.parse(`${today.slice(0, 10)}T00:00:00Z`);
  const b = Date.parse(`${date.slice(0, 10)}T00:00:00Z`);
  return Math.round((b - a) / 86_400_000);
}

/// What the domain panel says about where a domain stands.
export function domainStatus(d: Domain): string {
  switch (d.state) {
    case "pending":
      return d.mode === "registered" ? "registration queued" : "waiting for its job";
    case "verifying":
      return "waiting for the client's DNS records";
    case "active":
      return d.mode === "registered" ? `registered until ${day(d.expiresOn)}` : d.mode === "owned" ? "verified" : "active";
    case "failed":
      return d.creditNote ? `not registered: credited back (${d.creditNote})` : "not registered";
    default:
      return d.state;
  }
}

/// What the certificate panel says: its level, and when what is served ends.
export function certificateStatus(c: Certificate): string {
  if (c.level === "none") return "No HTTPS";
  const level = c.level === "automatic" ? "Automatic certificate" : "Bundled certificate";
  if (c.state === "pending") return `${level}: being set on the server`;
  if (c.state === "failed") return `${level}: needs attention`;
  return c.notAfter ? `${level}, valid until ${day(c.notAfter)}` : level;
}

/// A line of the availability check: "lumiere.com — available, 10.88 USD / 1 y".
export function checkLine(c: DomainAvailability): string {
  if (c.known) return `${c.domain} — already in Hostdesk`;
  if (!c.available) return `${c.domain} — taken${c.note ? ` (${c.note})` : ""}`;
  const price = c.price ? `, ${c.price}${c.currency ? ` ${c.currency}` : ""} / ${c.years} y` : "";
  return `${c.domain} — available${c.premium ? " (premium)" : ""}${price}`;
}

/// The domain mode of the order being built (the chosen choice's `domainMode`), or null when
/// its product has no domain option.
export function chosenDomainMode(catalog: CatalogOverview | undefined, s: Pick<WizardState, "plan" | "options">): string | null {
  if (!catalog) return null;
  for (const o of optionsFor(catalog, planProduct(catalog, s.plan))) {
    const chosen = o.choices.find((c) => c.code === s.options[o.code]);
    if (chosen?.domainMode) return chosen.domainMode;
  }
  return null;
}
