import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type ClientDraft, type ClientKind } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";
import { useDebounced } from "../../lib/useDebounced";

const EMPTY: ClientDraft = {
  kind: "company",
  name: "",
  email: "",
  phone: "",
  address: "",
  country: "",
  taxId: "",
  currency: "EUR",
  timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "Europe/Paris",
  billingDay: null,
  notes: "",
  status: null,
};

// Suggestions only: the core decides what is valid.
const TIME_ZONES: string[] =
  typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "SEK", "NOK", "DKK", "PLN", "KWD"];

/// Adds a client (or edits one when `initial` and `id` are given). The rules are the core's:
/// the draft is checked over IPC as staff type and each message shows beside its field.
export function ClientForm({
  id,
  initial,
  onDone,
}: {
  id?: number;
  initial?: ClientDraft;
  onDone: (id: number | null) => void;
}) {
  const qc = useQueryClient();
  const [draft, setDraft] = useState<ClientDraft>(initial ?? EMPTY);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);
  const checked = useDebounced(draft, 150);
  const check = useQuery({
    queryKey: ["check-client", checked],
    queryFn: () => unwrap(commands.checkClient(checked)),
    placeholderData: (prev) => prev,
  });
  const save = useMutation({
    mutationFn: async () =>
      id ? (await unwrap(commands.updateClient(id, draft))).id : unwrap(commands.addClient(draft, [])),
    onSuccess: (newId) => {
      qc.invalidateQueries();
      onDone(newId);
    },
  });

  const errors: Record<string, string> = {};
  for (const f of check.data ?? []) errors[f.field] = f.message;
  Object.assign(errors, fieldErrors(save.error));
  const shown = (field: string) => (touched[field] || submitted ? errors[field] : undefined);

  const set = <K extends keyof ClientDraft>(key: K, value: ClientDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const field = (key: keyof ClientDraft & string, label: string, props: React.InputHTMLAttributes<HTMLInputElement> = {}) => (
    <label className={`field${shown(key) ? " invalid" : ""}`}>
      <span>{label}</span>
      <input
        name={key}
        value={String(draft[key] ?? "")}
        aria-invalid={Boolean(shown(key))}
        aria-describedby={shown(key) ? `${key}-error` : undefined}
        onChange={(e) => set(key, e.target.value as never)}
        onBlur={() => setTouched((t) => ({ ...t, [key]: true }))}
        {...props}
      />
      {shown(key) && (
        <small className="field-error" id={`${key}-error`} role="alert">
          {shown(key)}
        </small>
      )}
    </label>
  );

  return (
    <form
      className="panel form"
      aria-label={id ? "Edit client" : "Add client"}
      onSubmit={(e) => {
        e.preventDefault();
        setSubmitted(true);
        save.mutate();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") onDone(null);
      }}
    >
      <h2>{id ? "Edit client" : "New client"}</h2>
      <div className="grid">
        <label className="field">
          <span>Kind</span>
          <select value={draft.kind ?? "company"} onChange={(e) => set("kind", e.target.value as ClientKind)}>
            <option value="company">Company</option>
            <option value="person">Person</option>
          </select>
        </label>
        {field("name", "Name", { autoFocus: true })}
        {field("email", "E-mail", { type: "email" })}
        {field("phone", "Phone")}
        {field("country", "Country (ISO code)", { placeholder: "FR" })}
        {field("taxId", "Tax id")}
        {field("currency", "Currency", { placeholder: "EUR", list: "currencies" })}
        {field("timezone", "Time zone", { placeholder: "Europe/Paris", list: "time-zones" })}
        <label className={`field${shown("billingDay") ? " invalid" : ""}`}>
          <span>Billing day</span>
          <input
            name="billingDay"
            type="number"
            placeholder="1"
            value={draft.billingDay ?? ""}
            onChange={(e) => set("billingDay", e.target.value === "" ? null : Number(e.target.value))}
            onBlur={() => setTouched((t) => ({ ...t, billingDay: true }))}
          />
          {shown("billingDay") && <small className="field-error" role="alert">{shown("billingDay")}</small>}
        </label>
        {field("address", "Address")}
      </div>
      <datalist id="time-zones">
        {TIME_ZONES.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      <datalist id="currencies">
        {CURRENCIES.map((c) => (
          <option key={c} value={c} />
        ))}
      </datalist>
      <label className="field wide">
        <span>Notes</span>
        <textarea value={draft.notes} onChange={(e) => set("notes", e.target.value)} rows={2} />
      </label>
      <ErrorNote error={save.error && !Object.keys(fieldErrors(save.error)).length ? save.error : null} />
      <div className="actions">
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
        <button className="primary" type="submit" disabled={save.isPending}>
          {save.isPending ? "Saving…" : id ? "Save" : "Add client"}
        </button>
      </div>
    </form>
  );
}
