// The order wizard's steps: each renders its fields with the messages that belong to them.
import type { CatalogOverview, ClientRow, PaymentMethod, Quote } from "../../bindings";
import { DomainAvailability } from "../domains/DomainAvailability";
import {
  PAY_TEXT,
  domainSuffix,
  findKit,
  modifierLabel,
  optionsFor,
  planProduct,
  priceIn,
  priceLabel,
  type FieldErrors,
  type Pay,
  type Plan,
  type WizardState,
} from "./orderWizard";

export function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <small className="field-error" id={`${id}-error`} role="alert">
      {message}
    </small>
  );
}

export function ClientStep({
  s,
  search,
  setSearch,
  results,
  searching,
  choose,
  errors,
}: {
  s: WizardState;
  search: string;
  setSearch: (t: string) => void;
  results: ClientRow[];
  searching: boolean;
  choose: (c: { id: number; name: string; currency: string }) => void;
  errors: FieldErrors;
}) {
  const shown = results.some((c) => c.id === s.clientId) || s.clientId === null
    ? results
    : [{ id: s.clientId, name: s.clientName, currency: s.currency, email: "", status: "active" } as ClientRow, ...results];
  return (
    <div>
      <label className={`field${errors.clientId ? " invalid" : ""}`}>
        <span>Find a client (name, e-mail, contact, domain)</span>
        <input type="search" name="client-search" value={search} onChange={(e) => setSearch(e.target.value)}
          placeholder="Type to search…" aria-describedby={errors.clientId ? "clientId-error" : undefined} />
      </label>
      <FieldError id="clientId" message={errors.clientId} />
      <div className="choice-list" role="radiogroup" aria-label="Clients">
        {shown.map((c) => (
          <label key={c.id} className={`choice${s.clientId === c.id ? " chosen" : ""}`}>
            <input type="radio" name="client" checked={s.clientId === c.id}
              onChange={() => choose({ id: c.id, name: c.name, currency: c.currency })} />
            <span className="choice-main"><strong>{c.name}</strong>{c.email && <span className="muted small"> {c.email}</span>}</span>
            <span className="muted small">{c.currency}{c.status !== "active" && ` · ${c.status}`}</span>
          </label>
        ))}
        {shown.length === 0 && (
          <p className="muted small">{search.trim() ? (searching ? "Searching…" : `No client matches “${search}”.`) : "Type to find a client."}</p>
        )}
      </div>
    </div>
  );
}

export function PlanStep({
  s,
  catalog,
  choose,
  setPeriod,
  errors,
}: {
  s: WizardState;
  catalog: CatalogOverview;
  choose: (p: Plan) => void;
  setPeriod: (p: string) => void;
  errors: FieldErrors;
}) {
  const kits = catalog.kits.filter((k) => k.retiredAt === null);
  const products = catalog.products.filter((p) => p.retiredAt === null);
  const chosen = (kind: Plan["kind"], code: string) => s.plan?.kind === kind && s.plan.code === code;
  const prices = s.plan?.kind === "kit"
    ? kits.find((k) => k.code === s.plan?.code)?.prices ?? []
    : products.find((p) => p.code === s.plan?.code)?.prices ?? [];
  const periods = [...new Set(prices.filter((p) => p.currency === s.currency).map((p) => p.period))];
  const message = errors.product ?? errors.kit ?? errors.price;
  const row = (kind: Plan["kind"], code: string, name: string, detail: string, rowPrices: typeof prices) => {
    const price = priceIn(rowPrices, s.currency, s.period);
    return (
      <label key={`${kind}-${code}`} className={`choice${chosen(kind, code) ? " chosen" : ""}`}>
        <input type="radio" name="plan" value={`${kind}:${code}`} checked={chosen(kind, code)}
          onChange={() => choose({ kind, code })} aria-describedby={message ? "product-error" : undefined} />
        <span className="choice-main"><strong>{name}</strong> <span className="muted small">{detail}</span></span>
        <span className={price ? "num" : "muted small"}>{priceLabel(rowPrices, s.currency, s.period)}</span>
      </label>
    );
  };
  return (
    <div>
      <div className="choice-list" role="radiogroup" aria-label="Product or kit">
        {kits.length > 0 && <h3>Kits</h3>}
        {kits.map((k) => row("kit", k.code, k.name, `${k.productCode}${k.tierCode ? ` + ${k.tierCode} support` : ""}`, k.prices))}
        <h3>Products</h3>
        {products.map((p) => row("product", p.code, p.name, p.code, p.prices))}
      </div>
      <FieldError id="product" message={message} />
      {periods.length > 1 && (
        <label className={`field${errors.period ? " invalid" : ""}`}>
          <span>Billed every</span>
          <select name="period" value={s.period} onChange={(e) => setPeriod(e.target.value)}>
            {periods.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </label>
      )}
      <FieldError id="period" message={errors.period} />
    </div>
  );
}

export function OptionsStep({
  s,
  catalog,
  setOption,
  errors,
}: {
  s: WizardState;
  catalog: CatalogOverview;
  setOption: (option: string, choice: string) => void;
  errors: FieldErrors;
}) {
  const options = optionsFor(catalog, planProduct(catalog, s.plan));
  const kit = findKit(catalog, s.plan);
  const kitChoice = (option: string) => kit?.choices.find((c) => c.startsWith(`${option}=`))?.slice(option.length + 1);
  const inKit = (option: string) => kitChoice(option) !== undefined;
  return (
    <div>
      {options.length === 0 && <p className="muted">This product has no options.</p>}
      <div className="grid options-grid">
        {options.map((o) => (
          <label key={o.code} className={`field${errors.options ? " invalid" : ""}`}>
            <span>{o.name}{inKit(o.code) && <span className="muted"> (kit: {kitChoice(o.code)})</span>}</span>
            <select name={`option-${o.code}`} value={s.options[o.code] ?? ""} onChange={(e) => setOption(o.code, e.target.value)}
              aria-describedby={errors.options ? "options-error" : undefined}>
              {!inKit(o.code) && <option value="">— none —</option>}
              {o.choices.map((c) => {
                // The kit's own choice is in the kit price; another one is priced in full.
                const m = kitChoice(o.code) === c.code ? "in the kit" : modifierLabel(c, s.currency, s.period);
                return <option key={c.code} value={c.code}>{c.name}{m && ` (${m})`}</option>;
              })}
            </select>
          </label>
        ))}
      </div>
      <FieldError id="options" message={errors.options} />
    </div>
  );
}

export function TierStep({
  s,
  catalog,
  setTier,
  errors,
}: {
  s: WizardState;
  catalog: CatalogOverview;
  setTier: (tier: string) => void;
  errors: FieldErrors;
}) {
  const kit = findKit(catalog, s.plan);
  const current = s.tier ?? kit?.tierCode ?? "";
  const tiers = catalog.tiers.filter((t) => t.retiredAt === null);
  return (
    <div>
      <div className="choice-list" role="radiogroup" aria-label="Support tier">
        {!kit?.tierCode && (
          <label className={`choice${current === "" ? " chosen" : ""}`}>
            <input type="radio" name="tier" checked={current === ""} onChange={() => setTier("")} />
            <span className="choice-main"><strong>No support tier</strong></span>
            <span />
          </label>
        )}
        {tiers.map((t) => (
          <label key={t.code} className={`choice${current === t.code ? " chosen" : ""}`}>
            <input type="radio" name="tier" checked={current === t.code} onChange={() => setTier(t.code)}
              aria-describedby={errors.tier ? "tier-error" : undefined} />
            <span className="choice-main">
              <strong>{t.name}</strong>{" "}
              <span className="muted small">{t.hours} · {t.channels.join(", ")} · answers within {t.responseHours} h</span>
            </span>
            <span className="num">{kit?.tierCode === t.code ? "in the kit" : priceLabel(t.prices, s.currency, s.period)}</span>
          </label>
        ))}
      </div>
      <FieldError id="tier" message={errors.tier} />
    </div>
  );
}

export function DomainStep({
  s,
  setLabel,
  setPay,
  setYears,
  methods,
  quote,
  quotedLabel,
  errors,
  domainMode = null,
}: {
  s: WizardState;
  setLabel: (l: string) => void;
  setPay: (p: Pay) => void;
  setYears: (years: number) => void;
  methods: PaymentMethod[];
  quote: Quote | undefined;
  quotedLabel: string;
  errors: FieldErrors;
  /// The chosen domain option's mode (subdomain, owned, registered), if the product has one.
  domainMode?: string | null;
}) {
  const suffix = quote ? domainSuffix(quote.domain, quotedLabel) : "";
  const pay: Pay = s.pay ?? (methods.length > 0 ? "stored" : "manual");
  const choices: Pay[] = methods.length > 0 ? ["stored", "manual", "later"] : ["manual", "later"];
  const domainError = errors.domain ?? errors.server;
  return (
    <div>
      <label className={`field${domainError ? " invalid" : ""}`}>
        <span>Site name</span>
        <span className="domain-input">
          <input name="domain" value={s.label} onChange={(e) => setLabel(e.target.value)} placeholder="acme"
            autoComplete="off" spellCheck={false} aria-invalid={Boolean(domainError)}
            aria-describedby={domainError ? "domain-error" : "domain-hint"} />
          {suffix && <span className="suffix muted">{suffix}</span>}
        </span>
      </label>
      <FieldError id="domain" message={domainError} />
      {!domainError && (
        <small className="muted" id="domain-hint" data-testid="order-domain">
          {quote && s.label.trim() && quotedLabel.trim() === s.label.trim()
            ? `The site will be ${quote.domain} on ${quote.serverName}.`
            : "One label becomes a subdomain of the server's master domain; a full domain is used as typed."}
        </small>
      )}
      <DomainAvailability domain={quote?.domain ?? s.label} mode={domainMode} />
      {domainMode === "registered" && (
        <>
          <label className={`field${errors.domainYears ? " invalid" : ""}`}>
            <span>Registered for</span>
            <select name="domainYears" value={s.domainYears} onChange={(e) => setYears(Number(e.target.value))}
              aria-invalid={Boolean(errors.domainYears)} aria-describedby={errors.domainYears ? "domainYears-error" : undefined}>
              {Array.from({ length: 10 }, (_, i) => i + 1).map((y) => (
                <option key={y} value={y}>{y === 1 ? "1 year" : `${y} years`}</option>
              ))}
            </select>
          </label>
          <FieldError id="domainYears" message={errors.domainYears} />
        </>
      )}
      <fieldset className={`pay${errors.pay ? " invalid" : ""}`}>
        <legend>How the client pays</legend>
        {choices.map((p) => (
          <label key={p} className="choice">
            <input type="radio" name="pay" value={p} checked={pay === p} onChange={() => setPay(p)}
              aria-describedby={errors.pay ? "pay-error" : undefined} />
            <span className="choice-main">
              {PAY_TEXT[p]}
              {p === "stored" && methods[0] && <span className="muted small"> ({methods[0].label})</span>}
            </span>
            <span />
          </label>
        ))}
      </fieldset>
      <FieldError id="pay" message={errors.pay} />
    </div>
  );
}
