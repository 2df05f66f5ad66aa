import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type Period, type ProductDraft, type ProductKind } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { useDebounced } from "../../lib/useDebounced";
import { ErrorNote } from "../shell/ErrorNote";

const EMPTY: ProductDraft = {
  code: "",
  name: "",
  kind: "site",
  description: "",
  profile: "",
  platform: "",
  serverGroup: "",
  prices: [{ currency: "EUR", period: "month", amount: "" }],
};

/// Adds a product with its first price; the core's rules are checked as staff type.
export function ProductForm({ onDone }: { onDone: () => void }) {
  const qc = useQueryClient();
  const [draft, setDraft] = useState<ProductDraft>(EMPTY);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);
  const checked = useDebounced(draft, 150);
  const check = useQuery({
    queryKey: ["check-product", checked],
    queryFn: () => unwrap(commands.checkProduct(checked)),
    placeholderData: (prev) => prev,
  });
  const save = useMutation({
    mutationFn: () => unwrap(commands.addProduct(draft)),
    onSuccess: () => {
      qc.invalidateQueries();
      onDone();
    },
  });
  const errors: Record<string, string> = {};
  for (const f of check.data ?? []) errors[f.field] = f.message;
  Object.assign(errors, fieldErrors(save.error));
  const shown = (f: string) => (touched[f] || submitted ? errors[f] : undefined);
  const price = draft.prices[0];
  const setPrice = (p: Partial<typeof price>) => setDraft((d) => ({ ...d, prices: [{ ...d.prices[0], ...p }] }));

  const input = (f: string, label: string, value: string, onChange: (v: string) => void, extra = {}) => (
    <label className={`field${shown(f) ? " invalid" : ""}`}>
      <span>{label}</span>
      <input name={f} value={value} aria-invalid={Boolean(shown(f))} onChange={(e) => onChange(e.target.value)}
        onBlur={() => setTouched((t) => ({ ...t, [f]: true }))} {...extra} />
      {shown(f) && <small className="field-error" role="alert">{shown(f)}</small>}
    </label>
  );

  return (
    <form className="panel form" aria-label="Add product"
      onSubmit={(e) => { e.preventDefault(); setSubmitted(true); save.mutate(); }}
      onKeyDown={(e) => { if (e.key === "Escape") onDone(); }}>
      <h2>New product</h2>
      <div className="grid">
        {input("code", "Code", draft.code, (v) => setDraft({ ...draft, code: v }), { autoFocus: true, placeholder: "oa-site" })}
        {input("name", "Name", draft.name, (v) => setDraft({ ...draft, name: v }))}
        <label className="field">
          <span>Kind</span>
          <select value={draft.kind ?? "site"} onChange={(e) => setDraft({ ...draft, kind: e.target.value as ProductKind })}>
            <option value="site">Site package (built from a profile)</option>
            <option value="account">Client account with quotas</option>
          </select>
        </label>
        {input("profile", "Install profile", draft.profile, (v) => setDraft({ ...draft, profile: v }), { placeholder: "openatrium" })}
        {input("platform", "Platform", draft.platform, (v) => setDraft({ ...draft, platform: v }))}
        {input("prices[0].amount", "Price", price.amount, (v) => setPrice({ amount: v }), { placeholder: "9.95", inputMode: "decimal" })}
        {input("prices[0].currency", "Currency", price.currency, (v) => setPrice({ currency: v }))}
        <label className="field">
          <span>Per</span>
          <select value={price.period ?? "month"} onChange={(e) => setPrice({ period: e.target.value as Period })}>
            <option value="month">month</option>
            <option value="quarter">quarter</option>
            <option value="year">year</option>
          </select>
        </label>
      </div>
      <ErrorNote error={save.error && !Object.keys(fieldErrors(save.error)).length ? save.error : null} />
      <div className="actions">
        <button type="button" onClick={onDone}>Cancel</button>
        <button className="primary" type="submit" disabled={save.isPending}>Add product</button>
      </div>
    </form>
  );
}
