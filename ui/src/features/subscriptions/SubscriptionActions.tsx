import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type Subscription } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";
import { optionsFor, priceLabel } from "../orders/orderWizard";
import { FieldError } from "../orders/WizardSteps";
import { KEEP, REMOVE, buildChange, changeSummary, currentChoices, initialChange, isNoChange, type ChangeForm } from "./planChange";
import "../orders/orders.css";

const KEEP_TIER = "__keep__";

/// "Change plan" and "Cancel" on a subscription row of the client page.
export function SubscriptionActions({ sub }: { sub: Subscription }) {
  const [open, setOpen] = useState<"change" | "cancel" | null>(null);
  const canChange = sub.state === "active";
  const canCancel = ["active", "suspended", "pending"].includes(sub.state);
  // A dialog stays open with its report after the change (a cancelled row has no buttons).
  if (!canChange && !canCancel && open === null) return null;
  return (
    <span className="row-actions">
      {canChange && <button className="small" onClick={() => setOpen("change")}>Change plan</button>}
      {canCancel && <button className="small" onClick={() => setOpen("cancel")}>Cancel</button>}
      {open === "change" && <ChangePlanDialog sub={sub} onClose={() => setOpen(null)} />}
      {open === "cancel" && <CancelDialog sub={sub} onClose={() => setOpen(null)} />}
    </span>
  );
}

function Dialog({ label, onClose, busy, children }: { label: string; onClose: () => void; busy: boolean; children: React.ReactNode }) {
  return (
    <div className="dialog-backdrop" role="presentation">
      <div className="dialog panel" role="dialog" aria-modal="true" aria-label={label}
        onKeyDown={(e) => { if (e.key === "Escape" && !busy) onClose(); }}>
        {children}
      </div>
    </div>
  );
}

function ChangePlanDialog({ sub, onClose }: { sub: Subscription; onClose: () => void }) {
  const qc = useQueryClient();
  const catalog = useQuery({ queryKey: ["catalog"], queryFn: () => unwrap(commands.getCatalog()) });
  const [f, setF] = useState<ChangeForm>(() => initialChange(sub));
  const request = buildChange(sub, f);
  const change = useMutation({
    mutationFn: () => unwrap(commands.changeSubscription(sub.id, request)),
    onSuccess: () => qc.invalidateQueries(),
  });
  const errs = fieldErrors(change.error);
  const productError = errs.product ?? errs.kit ?? errs.price;
  const optionsError = errs.options ?? errs.removeOptions ?? errs.setOptions;
  const general = change.error && !productError && !optionsError && !errs.tier ? change.error : null;
  const now = currentChoices(sub);
  const set = (g: (f: ChangeForm) => ChangeForm) => {
    setF(g);
    if (change.isError) change.reset();
  };
  const cat = catalog.data;
  const products = cat?.products.filter((p) => p.retiredAt === null || p.code === sub.productCode) ?? [];
  const options = cat ? optionsFor(cat, f.product) : [];
  return (
    <Dialog label={`Change plan of subscription ${sub.id}`} onClose={onClose} busy={change.isPending}>
      <form className="form" onSubmit={(e) => { e.preventDefault(); if (change.data) onClose(); else change.mutate(); }}>
        <h2>Change plan · #{sub.id} {sub.kitCode ?? sub.productCode}</h2>
        <p className="muted small">
          A dearer plan starts today with an invoice for the difference (the unused part of the old price is credited);
          a cheaper or equal one starts at the period end{sub.nextDueOn && ` (${sub.nextDueOn})`}.
        </p>
        {change.data ? (
          <div className="report" role="status" data-testid="change-report">{changeSummary(change.data, sub.currency)}</div>
        ) : (
          <div className="change-grid">
            <label className={`field${productError ? " invalid" : ""}`}>
              <span>Product</span>
              <select name="product" value={f.product} autoFocus onChange={(e) => set((x) => ({ ...x, product: e.target.value }))}
                aria-describedby={productError ? "product-error" : undefined}>
                {products.map((p) => (
                  <option key={p.code} value={p.code}>
                    {p.name}{p.code === sub.productCode ? " (current)" : ` — ${priceLabel(p.prices, sub.currency, sub.period)}`}
                  </option>
                ))}
              </select>
              <FieldError id="product" message={productError} />
            </label>
            {options.map((o) => (
              <label key={o.code} className={`field${optionsError ? " invalid" : ""}`}>
                <span>{o.name}</span>
                <select name={`option-${o.code}`} value={f.options[o.code] ?? KEEP}
                  onChange={(e) => set((x) => ({ ...x, options: { ...x.options, [o.code]: e.target.value } }))}>
                  <option value={KEEP}>{now[o.code] ? `keep (${now[o.code]})` : "keep (none)"}</option>
                  {o.choices.map((c) => <option key={c.code} value={c.code}>{c.name}</option>)}
                  {now[o.code] && <option value={REMOVE}>remove</option>}
                </select>
              </label>
            ))}
            <label className={`field${errs.tier ? " invalid" : ""}`}>
              <span>Support tier</span>
              <select name="tier" value={f.tier ?? KEEP_TIER} onChange={(e) => set((x) => ({ ...x, tier: e.target.value === KEEP_TIER ? null : e.target.value }))}>
                <option value={KEEP_TIER}>keep ({sub.tierCode ?? "none"})</option>
                {sub.tierCode && <option value="">none</option>}
                {cat?.tiers.filter((t) => t.retiredAt === null).map((t) => (
                  <option key={t.code} value={t.code}>{t.name} — {priceLabel(t.prices, sub.currency, sub.period)}</option>
                ))}
              </select>
              <FieldError id="tier" message={errs.tier} />
            </label>
          </div>
        )}
        <FieldError id="options" message={optionsError} />
        <ErrorNote error={general ?? catalog.error} />
        <div className="actions">
          {change.data ? (
            <button className="primary" type="submit">Done</button>
          ) : (
            <>
              <button type="button" onClick={onClose} disabled={change.isPending}>Close</button>
              <button className="primary" type="submit" disabled={change.isPending || isNoChange(request)}>
                {change.isPending ? "Changing…" : "Change plan"}
              </button>
            </>
          )}
        </div>
      </form>
    </Dialog>
  );
}

function CancelDialog({ sub, onClose }: { sub: Subscription; onClose: () => void }) {
  const qc = useQueryClient();
  const [now, setNow] = useState(false);
  const cancel = useMutation({
    mutationFn: () => unwrap(commands.cancelSubscription(sub.id, now)),
    onSuccess: () => qc.invalidateQueries(),
  });
  const r = cancel.data;
  return (
    <Dialog label={`Cancel subscription ${sub.id}`} onClose={onClose} busy={cancel.isPending}>
      <form onSubmit={(e) => { e.preventDefault(); if (r) onClose(); else cancel.mutate(); }}>
        <h2>Cancel · #{sub.id} {sub.kitCode ?? sub.productCode}</h2>
        {r ? (
          <div className="report" role="status" data-testid="cancel-report">
            {r.immediately
              ? <>Cancelled today ({r.endsOn}); the sites are being disabled{r.creditNote ? <>; credit note <code>{r.creditNote}</code> for {r.credit} {sub.currency}</> : "; nothing was billed to credit"}.</>
              : <>The subscription ends on {r.endsOn}: it is not billed again.</>}
          </div>
        ) : (
          <fieldset className="pay">
            <legend>When</legend>
            <label className="choice">
              <input type="radio" name="when" checked={!now} onChange={() => setNow(false)} autoFocus />
              <span className="choice-main">At the end of the period{sub.nextDueOn && ` (${sub.nextDueOn})`}: service until then, no further invoice.</span><span />
            </label>
            <label className="choice">
              <input type="radio" name="when" checked={now} onChange={() => setNow(true)} />
              <span className="choice-main">Now: the sites are disabled today and the unused part is credited (a credit note).</span><span />
            </label>
          </fieldset>
        )}
        <ErrorNote error={cancel.error} />
        <div className="actions">
          {r ? (
            <button className="primary" type="submit">Done</button>
          ) : (
            <>
              <button type="button" onClick={onClose} disabled={cancel.isPending}>Keep the subscription</button>
              <button className="primary danger" type="submit" disabled={cancel.isPending}>
                {now ? "Cancel now, with a credit" : "Cancel at period end"}
              </button>
            </>
          )}
        </div>
      </form>
    </Dialog>
  );
}
