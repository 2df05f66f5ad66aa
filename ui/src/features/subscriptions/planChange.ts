// A plan change as staff pick it, turned into the core's ChangeRequest.
import type { ChangeReport, ChangeRequest, Subscription } from "../../bindings";

/// "" keeps the option as it is, REMOVE takes it away, anything else is a choice code.
export const KEEP = "";
export const REMOVE = "-";

export interface ChangeForm {
  product: string;
  /// option code -> KEEP, REMOVE or a choice code
  options: Record<string, string>;
  /// null keeps the tier; "" removes it; else a tier code
  tier: string | null;
}

/// The subscription's choices as option code -> choice code.
export function currentChoices(sub: Pick<Subscription, "choices">): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of sub.choices) {
    const i = c.indexOf("=");
    if (i > 0) out[c.slice(0, i)] = c.slice(i + 1);
  }
  return out;
}

export function initialChange(sub: Pick<Subscription, "productCode">): ChangeForm {
  return { product: sub.productCode, options: {}, tier: null };
}

export function buildChange(sub: Pick<Subscription, "productCode" | "choices" | "tierCode">, f: ChangeForm): ChangeRequest {
  const now = currentChoices(sub);
  const setOptions: string[] = [];
  const removeOptions: string[] = [];
  for (const [option, v] of Object.entries(f.options).sort(([a], [b]) => a.localeCompare(b))) {
    if (v === KEEP) continue;
    if (v === REMOVE) {
      if (option in now) removeOptions.push(option);
    } else if (now[option] !== v) setOptions.push(`${option}=${v}`);
  }
  const tier = f.tier === null || f.tier === (sub.tierCode ?? "") ? null : f.tier;
  return {
    product: f.product && f.product !== sub.productCode ? f.product : null,
    setOptions,
    removeOptions,
    tier,
  };
}

export function isNoChange(r: ChangeRequest): boolean {
  return r.product === null && r.setOptions.length === 0 && r.removeOptions.length === 0 && r.tier === null;
}

/// What a change did, in one sentence.
export function changeSummary(r: ChangeReport, currency: string): string {
  const prices = `${r.oldPrice} → ${r.newPrice} ${currency}`;
  if (r.when === "immediate") {
    const inv = r.invoice ? `; invoice ${r.invoice.number} for ${r.invoice.total} ${r.invoice.currency}` : "";
    return `Upgraded now (${prices}), effective ${r.effective}${inv}.`;
  }
  return `Scheduled for the period end: the new plan (${prices}) starts on ${r.effective}.`;
}
