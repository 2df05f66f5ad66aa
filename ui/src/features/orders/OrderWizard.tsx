import { useEffect, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type OrderRequest, type Quote } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { href } from "../../lib/route";
import { useDebounced } from "../../lib/useDebounced";
import { ErrorNote } from "../shell/ErrorNote";
import { progressLabel } from "./orderProgress";
import {
  STEPS,
  STEP_LABEL,
  buildRequest,
  choosePlan,
  errorsByStep,
  firstErrorStep,
  initialState,
  localErrors,
  nextStep,
  previousStep,
  type FieldErrors,
  type Step,
  type WizardState,
} from "./orderWizard";
import { QuotePreview, RunningTotal } from "./QuotePreview";
import { ClientStep, DomainStep, OptionsStep, PlanStep, TierStep } from "./WizardSteps";
import { chosenDomainMode } from "../domains/domains";
import "./orders.css";

type ClientPick = { id: number; name: string; currency: string };

/// Places an order step by step: client -> product or kit -> options -> support -> domain and
/// payment -> the core's price preview -> Place. Enter moves on, Esc closes; the core's messages
/// show beside the field (and the step) they concern.
export function OrderWizard({ client, onClose }: { client?: ClientPick; onClose: () => void }) {
  const qc = useQueryClient();
  const [s, setS] = useState<WizardState>(() => initialState(client));
  const [step, setStep] = useState<Step>(client ? "product" : "client");
  const [reached, setReached] = useState(STEPS.indexOf(client ? "product" : "client"));
  const [attempted, setAttempted] = useState<Partial<Record<Step, boolean>>>({});
  const [search, setSearch] = useState("");
  const bodyRef = useRef<HTMLDivElement>(null);

  const catalog = useQuery({ queryKey: ["catalog"], queryFn: () => unwrap(commands.getCatalog()) });
  const searched = useDebounced(search.trim(), 150);
  const found = useQuery({
    queryKey: ["client-search", searched],
    queryFn: () => unwrap(commands.searchClients(searched)),
    enabled: searched !== "",
    placeholderData: (prev) => prev,
  });
  const results = searched === "" ? [] : (found.data ?? []);
  const methods = useQuery({
    queryKey: ["payment-methods", s.clientId],
    queryFn: () => unwrap(commands.listPaymentMethods(s.clientId ?? 0)),
    enabled: s.clientId !== null,
  });

  // The preview follows the inputs, once they stop changing for a moment.
  const domainMode = chosenDomainMode(catalog.data, s);
  const requestKey = JSON.stringify(buildRequest(s, true, domainMode));
  const quotedKey = useDebounced(requestKey, 250);
  const quote = useQuery({
    queryKey: ["quote", quotedKey],
    queryFn: async () => {
      const req = JSON.parse(quotedKey) as OrderRequest;
      return { quote: await unwrap(commands.quoteOrder(req)), label: req.domain };
    },
    enabled: quotedKey !== "null",
    placeholderData: (prev) => prev,
    staleTime: 0,
  });
  const quoteCurrent = quotedKey === requestKey && !quote.isPlaceholderData && !quote.isFetching;
  const shownQuote = requestKey === "null" ? undefined : quote.data?.quote;

  const place = useMutation({
    mutationFn: async () => {
      const req = buildRequest(s, false, domainMode);
      if (!req) throw new Error("choose a client and a product first");
      // The name must be free on the server too; a taken one comes back on the domain field.
      // An unreachable server does not block the order (its site job will tell).
      await unwrap(commands.checkOrderDomain(req));
      return unwrap(commands.placeOrder(req));
    },
    onSuccess: () => qc.invalidateQueries(),
    onError: (e) => {
      const back = firstErrorStep(fieldErrors(e));
      if (back && back !== "review") setStep(back);
    },
  });

  const update = (f: (s: WizardState) => WizardState) => {
    setS(f);
    if (place.isError) place.reset();
  };

  const remote: FieldErrors = { ...fieldErrors(quote.error), ...fieldErrors(place.error) };
  const remoteBy = errorsByStep(remote);
  const errorsOf = (st: Step): FieldErrors => ({ ...(attempted[st] ? localErrors(s, st) : {}), ...remoteBy[st] });
  const otherError = [place.error, quote.error].find((e) => e && Object.keys(fieldErrors(e)).length === 0) ?? null;

  const go = (to: Step) => {
    setStep(to);
    setReached((r) => Math.max(r, STEPS.indexOf(to)));
  };

  const chooseClient = (c: ClientPick) =>
    update((x) => ({ ...x, clientId: c.id, clientName: c.name, currency: c.currency, pay: null }));

  const advance = () => {
    if (place.isPending) return;
    if (place.isSuccess) return onClose();
    if (step === "client" && s.clientId === null && results.length > 0) {
      chooseClient(results[0]);
      return go("product");
    }
    if (step === "review") {
      const missing = STEPS.find((st) => Object.keys(localErrors(s, st)).length > 0);
      if (missing) {
        setAttempted((a) => ({ ...a, [missing]: true }));
        return setStep(missing);
      }
      return place.mutate();
    }
    setAttempted((a) => ({ ...a, [step]: true }));
    const blocking = { ...localErrors(s, step), ...(quoteCurrent ? remoteBy[step] : {}) };
    if (Object.keys(blocking).length === 0) go(nextStep(step));
  };

  // Each step starts on its first field (a radio group on its chosen radio).
  useEffect(() => {
    const body = bodyRef.current;
    if (!body) return;
    const first = body.querySelector<HTMLElement>("input, select, textarea, button[data-autofocus]");
    if (first instanceof HTMLInputElement && first.type === "radio") {
      const checked = body.querySelector<HTMLInputElement>(`input[type=radio][name="${first.name}"]:checked`);
      (checked ?? first).focus();
    } else first?.focus();
  }, [step, place.isSuccess, catalog.isSuccess]);

  const placed = place.data;
  const title = `New order${s.clientName ? ` for ${s.clientName}` : ""}`;
  return (
    <div className="dialog-backdrop" role="presentation">
      <div className="dialog panel order-wizard" role="dialog" aria-modal="true" aria-label="New order"
        onKeyDown={(e) => {
          if (e.key === "Escape" && !place.isPending) {
            e.preventDefault();
            onClose();
          }
        }}>
        <h2>{title}</h2>
        <ol className="stepper" aria-label="Steps">
          {STEPS.map((st, i) => {
            const bad = Object.keys(errorsOf(st)).length > 0;
            return (
              <li key={st} aria-current={st === step ? "step" : undefined} className={`${i < STEPS.indexOf(step) ? "done" : ""}${bad ? " bad" : ""}`}>
                <button type="button" disabled={i > reached || placed !== undefined} onClick={() => setStep(st)} tabIndex={-1}>
                  <span className="n">{i + 1}</span> {STEP_LABEL[st]}
                </button>
              </li>
            );
          })}
        </ol>
        <form
          aria-label={STEP_LABEL[step]}
          data-step={placed ? "placed" : step}
          onSubmit={(e) => {
            e.preventDefault();
            advance();
          }}
          onKeyDown={(e) => {
            const t = e.target as HTMLElement;
            if (e.key === "Enter" && !e.nativeEvent.isComposing && !["BUTTON", "TEXTAREA", "A"].includes(t.tagName)) {
              e.preventDefault();
              advance();
            }
          }}
        >
          <div className="wizard-body" ref={bodyRef}>
            {placed ? (
              <div data-testid="order-placed" role="status">
                <p>
                  <strong>Order #{placed.orderId} placed</strong> — {progressLabel(placed.state)}.
                </p>
                {placed.invoice && (
                  <p>Invoice <code>{placed.invoice.number}</code>: {placed.invoice.total} {placed.invoice.currency}.</p>
                )}
                <p className="muted">
                  {placed.jobs.length > 0
                    ? `${placed.jobs.length} job${placed.jobs.length === 1 ? "" : "s"} queued; the client's page follows them.`
                    : "Nothing queued yet: provisioning starts once the order is paid or approved."}
                </p>
                {!client && s.clientId !== null && (
                  <p><a href={href({ section: "clients", id: s.clientId })} onClick={onClose}>Open {s.clientName}'s page</a></p>
                )}
              </div>
            ) : !catalog.data ? (
              <ErrorNote error={catalog.error} />
            ) : (
              <>
                {step === "client" && (
                  <ClientStep s={s} search={search} setSearch={setSearch} results={results} searching={found.isFetching}
                    choose={chooseClient} errors={errorsOf("client")} />
                )}
                {step === "product" && (
                  <PlanStep s={s} catalog={catalog.data} errors={errorsOf("product")}
                    choose={(p) => update((x) => choosePlan(x, catalog.data, p))}
                    setPeriod={(period) => update((x) => ({ ...x, period }))} />
                )}
                {step === "options" && (
                  <OptionsStep s={s} catalog={catalog.data} errors={errorsOf("options")}
                    setOption={(o, c) => update((x) => ({ ...x, options: { ...x.options, [o]: c } }))} />
                )}
                {step === "tier" && (
                  <TierStep s={s} catalog={catalog.data} errors={errorsOf("tier")} setTier={(tier) => update((x) => ({ ...x, tier }))} />
                )}
                {step === "domain" && (
                  <DomainStep s={s} methods={methods.data ?? []} quote={shownQuote} quotedLabel={quote.data?.label ?? ""}
                    errors={errorsOf("domain")} domainMode={domainMode}
                    setLabel={(label) => update((x) => ({ ...x, label }))} setPay={(pay) => update((x) => ({ ...x, pay }))}
                    setYears={(domainYears) => update((x) => ({ ...x, domainYears }))} />
                )}
                {step === "review" && (
                  <ReviewStep s={s} quote={shownQuote} fresh={quoteCurrent} remoteBy={remoteBy} go={setStep} />
                )}
              </>
            )}
          </div>
          <ErrorNote error={otherError} />
          <div className="actions wizard-actions">
            {!placed && <span className="grow"><RunningTotal quote={step === "client" ? undefined : shownQuote} /></span>}
            {placed ? (
              <button className="primary" type="submit" data-autofocus>Done</button>
            ) : (
              <>
                <button type="button" onClick={onClose} disabled={place.isPending}>Cancel</button>
                {step !== STEPS[0] && (
                  <button type="button" onClick={() => setStep(previousStep(step))} disabled={place.isPending}>Back</button>
                )}
                <button className="primary" type="submit" disabled={place.isPending || (step === "review" && !quoteCurrent)}>
                  {step === "review" ? (place.isPending ? "Placing…" : "Place order") : "Next"}
                </button>
              </>
            )}
          </div>
        </form>
      </div>
    </div>
  );
}

function ReviewStep({
  s,
  quote,
  fresh,
  remoteBy,
  go,
}: {
  s: WizardState;
  quote: Quote | undefined;
  fresh: boolean;
  remoteBy: Partial<Record<Step, FieldErrors>>;
  go: (s: Step) => void;
}) {
  const problems = STEPS.filter((st) => remoteBy[st] && st !== "review");
  return (
    <div>
      {problems.map((st) => (
        <div key={st} className="error-note" role="alert">
          {Object.values(remoteBy[st] ?? {}).join("; ")}{" "}
          <button type="button" className="small" onClick={() => go(st)}>Go to {STEP_LABEL[st]}</button>
        </div>
      ))}
      {Object.values(remoteBy.review ?? {}).map((m) => (
        <div key={m} className="error-note" role="alert">{m}</div>
      ))}
      {quote ? (
        <div className={fresh ? "" : "stale"}>
          <QuotePreview quote={quote} showDomain={s.label.trim() !== ""} />
        </div>
      ) : (
        <p className="muted">Computing the price…</p>
      )}
    </div>
  );
}
