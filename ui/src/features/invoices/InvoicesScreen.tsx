import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type InvoiceView } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { formatMinor } from "../../lib/money";
import { CreditNoteForm } from "./CreditNoteForm";
import { ErrorNote } from "../shell/ErrorNote";
import { BillRunDialog } from "./BillRunDialog";
import { DunningScreen } from "../dunning/DunningScreen";
import { InvoiceTabs, type InvoiceTab } from "../dunning/InvoiceTabs";

const STATUSES = ["issued", "partially_paid", "paid", "void", "draft"];

export function InvoicesScreen() {
  const [status, setStatus] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const [billing, setBilling] = useState(false);
  const [tab, setTab] = useState<InvoiceTab>("invoices");
  const q = useQuery({
    queryKey: ["invoices", status, from, to],
    queryFn: () => unwrap(commands.listInvoices({ status: status || null, clientId: null, from: from || null, to: to || null, offset: 0, limit: 1000 })),
  });
  const rows = q.data ?? [];
  if (tab === "dunning") {
    return (
      <section>
        <header className="screen-head"><h1>Invoices</h1></header>
        <InvoiceTabs tab={tab} setTab={setTab} />
        <DunningScreen />
      </section>
    );
  }
  return (
    <section>
      <header className="screen-head">
        <h1>Invoices</h1>
        <button className="primary" onClick={() => setBilling(true)}>Bill run…</button>
      </header>
      <InvoiceTabs tab={tab} setTab={setTab} />
      {billing && <BillRunDialog onClose={() => setBilling(false)} />}
      <div className="toolbar">
        <select aria-label="Filter by status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">All statuses</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s.replace("_", " ")}</option>)}
        </select>
        <label className="small muted">from <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} aria-label="From date" /></label>
        <label className="small muted">to <input type="date" value={to} onChange={(e) => setTo(e.target.value)} aria-label="To date" /></label>
        <span className="muted" data-testid="invoice-count">{rows.length} invoices</span>
      </div>
      <ErrorNote error={q.error} />
      {q.data && rows.length === 0 && (
        <div className="empty"><p>No invoices{status ? ` ${status.replace("_", " ")}` : ""}.</p>
          <p className="muted">Run a bill run to issue the invoices that are due.</p></div>
      )}
      {rows.length > 0 && (
        <div className={`columns jobs${selected ? "" : " single"}`}>
          <div className="panel">
            <table className="simple" aria-label="Invoices">
              <thead><tr><th>Number</th><th>Client</th><th>Date</th><th>Status</th><th className="num">Total</th><th className="num">Balance</th></tr></thead>
              <tbody>
                {rows.map((v: InvoiceView) => (
                  <tr key={v.invoice.id} className={selected === String(v.invoice.id) ? "active" : ""}
                    onClick={() => setSelected(String(v.invoice.id))} tabIndex={0}
                    onKeyDown={(e) => { if (e.key === "Enter") setSelected(String(v.invoice.id)); }}>
                    <td><code>{v.invoice.number ?? "draft"}</code></td>
                    <td>{v.invoice.clientName}</td>
                    <td>{v.invoice.billingDate}</td>
                    <td><span className={`badge ${v.invoice.status}`}>{v.invoice.status.replace("_", " ")}</span></td>
                    <td className="num">{v.total} {v.invoice.currency}</td>
                    <td className="num">{v.balance}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {selected && <InvoicePanel invoice={selected} />}
        </div>
      )}
    </section>
  );
}

function InvoicePanel({ invoice }: { invoice: string }) {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["invoice", invoice], queryFn: () => unwrap(commands.getInvoice(invoice)) });
  const [amount, setAmount] = useState("");
  const [reference, setReference] = useState("");
  const [crediting, setCrediting] = useState(false);
  const pay = useMutation({
    mutationFn: () => unwrap(commands.recordPayment(invoice, amount, reference)),
    onSuccess: () => { setAmount(""); setReference(""); qc.invalidateQueries(); },
  });
  const pdf = useMutation({ mutationFn: () => unwrap(commands.saveInvoicePdf(invoice)) });
  const voidIt = useMutation({ mutationFn: () => unwrap(commands.voidInvoice(invoice)), onSuccess: () => qc.invalidateQueries() });
  if (!q.data) return <div className="panel"><ErrorNote error={q.error} /></div>;
  const { view, lines, payments, creditNotes, refunds } = q.data;
  const i = view.invoice;
  const errs = fieldErrors(pay.error);
  const open = i.status === "issued" || i.status === "partially_paid";
  const creditable = i.number !== null && (open || i.status === "paid");
  return (
    <div className="panel" aria-label={`Invoice ${i.number ?? i.id}`}>
      <h2>{i.number ?? "Draft"} <span className={`badge ${i.status}`}>{i.status.replace("_", " ")}</span></h2>
      <p className="small muted">{i.clientName} · billed {i.billingDate} · due {i.dueOn ?? "—"} · {i.currency}</p>
      {i.number && (
        <p className="small">
          <button className="small" onClick={() => pdf.mutate()} disabled={pdf.isPending}>Save PDF</button>{" "}
          {pdf.data && <span className="muted" data-testid="pdf-path">saved to {pdf.data}</span>}
        </p>
      )}
      <ErrorNote error={pdf.error} />
      <table className="simple">
        <thead><tr><th>Line</th><th className="num">Net</th><th className="num">Tax</th></tr></thead>
        <tbody>
          {lines.map((l) => (
            <tr key={l.id}>
              <td>{l.description}{l.flagged && <span className="badge failed">late usage</span>}
                <div className="muted small">{l.kind}{l.quantity !== 1 && ` × ${l.quantity}`} · {l.taxRateBps / 100}% tax</div></td>
              <td className="num">{formatMinor(l.netMinor, i.currency)}</td>
              <td className="num">{formatMinor(l.taxMinor, i.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <dl className="facts small">
        <dt>Net</dt><dd>{view.net}</dd>
        <dt>Tax</dt><dd>{view.tax}</dd>
        <dt>Total</dt><dd><strong>{view.total} {i.currency}</strong></dd>
        <dt>Paid</dt><dd>{view.paid}</dd>
        <dt>Balance</dt><dd>{view.balance}</dd>
      </dl>
      {i.notes.map((n) => <p key={n} className="small">{n}</p>)}
      {payments.length > 0 && (<>
        <h3>Payments</h3>
        <ul className="plain small">{payments.map((p) => <li key={p.id}>{p.createdAt.slice(0, 10)} · {p.method} · {p.reference} · {formatMinor(p.amountMinor, p.currency)} · {p.state}</li>)}</ul>
      </>)}
      {creditNotes.length > 0 && (<>
        <h3>Credit notes</h3>
        <ul className="plain small">{creditNotes.map((n) => <li key={n.id}>{n.number} · {n.reason} · {formatMinor(n.totalMinor, i.currency)}</li>)}</ul>
      </>)}
      {refunds.length > 0 && (<>
        <h3>Refunds to the card</h3>
        <ul className="plain small">{refunds.map((r) => (
          <li key={r.id}>
            {r.createdAt.slice(0, 10)} · {formatMinor(r.amountMinor, r.currency)} · <span className={`badge ${r.state}`}>{r.state}</span>
            {r.error && <span className="error"> {r.error}</span>}
          </li>
        ))}</ul>
      </>)}
      {open && (
        <form className="contact-form" aria-label="Record a payment" onSubmit={(e) => { e.preventDefault(); pay.mutate(); }}>
          <label className={`field${errs.amount ? " invalid" : ""}`}><span>Amount received</span>
            <input value={amount} onChange={(e) => setAmount(e.target.value)} placeholder={view.balance} inputMode="decimal" />
            {errs.amount && <small className="field-error">{errs.amount}</small>}</label>
          <label className={`field${errs.reference ? " invalid" : ""}`}><span>Reference</span>
            <input value={reference} onChange={(e) => setReference(e.target.value)} placeholder="bank transfer reference" />
            {errs.reference && <small className="field-error">{errs.reference}</small>}</label>
          <ErrorNote error={pay.error && !Object.keys(errs).length ? pay.error : null} />
          <div className="actions">
            {i.status === "issued" && <button type="button" onClick={() => { if (window.confirm(`Void ${i.number}? Its number stays used.`)) voidIt.mutate(); }}>Void</button>}
            <button className="primary" type="submit" disabled={pay.isPending}>Record payment</button>
          </div>
        </form>
      )}
      <ErrorNote error={voidIt.error} />
      {creditable && !crediting && (
        <p><button className="small" onClick={() => setCrediting(true)}>Credit note…</button></p>
      )}
      {crediting && (
        <CreditNoteForm invoice={invoice} currency={i.currency} lines={lines} payments={payments} onClose={() => setCrediting(false)} />
      )}
    </div>
  );
}
