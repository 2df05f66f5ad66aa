import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, type Line, type Payment } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { formatMinor } from "../../lib/money";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";

/// Issues a credit note on an invoice: every remaining line, or one line (all of it, or a net
/// amount), with a reason; with "refund", what is not due any more goes back to the card that
/// paid. Shows where the money went.
export function CreditNoteForm({ invoice, currency, lines, payments, onClose }: {
  invoice: string;
  currency: string;
  lines: Line[];
  payments: Payment[];
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const [reason, setReason] = useState("");
  const [lineKey, setLineKey] = useState("");
  const [amount, setAmount] = useState("");
  const [refund, setRefund] = useState(false);
  const paidByCard = payments.some((p) => (p.method === "stripe" || p.method === "authnet") && p.state === "succeeded");
  const issue = useMutation({
    mutationFn: () =>
      unwrap(commands.createCreditNote(invoice, reason, lineKey ? [{ lineKey, amount: amount.trim() || null }] : [], refund)),
    onSuccess: () => qc.invalidateQueries(),
  });
  const errs = fieldErrors(issue.error);
  if (issue.data) {
    const s = issue.data.settlement;
    return (
      <div className="panel" role="status" aria-label="Credit note issued">
        <p>
          Credit note <strong>{issue.data.number}</strong> issued: {s.applied} {currency} settled what was due, {s.toCredit} {currency} went
          to the client's credit.
        </p>
        {s.refunds.map((r) => (
          <p key={r.refundId} className="small">
            {r.amount} {currency} back to the card: <a href={href({ section: "jobs" })}>job #{r.jobId}</a>.
          </p>
        ))}
        <button className="small" onClick={onClose}>Close</button>
      </div>
    );
  }
  return (
    <form className="contact-form" aria-label="Issue a credit note" onSubmit={(e) => { e.preventDefault(); issue.mutate(); }}
      onKeyDown={(e) => { if (e.key === "Escape") onClose(); }}>
      <label className={`field${errs.reason ? " invalid" : ""}`}><span>Reason</span>
        <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="goodwill, cancelled order…" autoFocus
          aria-invalid={Boolean(errs.reason)} />
        {errs.reason && <small className="field-error">{errs.reason}</small>}</label>
      <label className="field"><span>What to credit</span>
        <select value={lineKey} onChange={(e) => setLineKey(e.target.value)}>
          <option value="">Everything that remains</option>
          {lines.filter((l) => l.netMinor > 0).map((l) => (
            <option key={l.key} value={l.key}>{l.description} ({formatMinor(l.netMinor, currency)} net)</option>
          ))}
        </select></label>
      {lineKey && (
        <label className={`field${errs.amount ? " invalid" : ""}`}><span>Net amount (empty: all that remains of the line)</span>
          <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" aria-invalid={Boolean(errs.amount)} />
          {errs.amount && <small className="field-error">{errs.amount}</small>}</label>
      )}
      <label className="choice">
        <input type="checkbox" checked={refund} onChange={(e) => setRefund(e.target.checked)} disabled={!paidByCard} />
        <span>Refund to the card that paid{!paidByCard && <span className="muted small"> (not paid by card: the credit goes to the client's balance)</span>}</span>
      </label>
      {errs.refund && <small className="field-error">{errs.refund}</small>}
      <ErrorNote error={Object.keys(errs).length > 0 ? null : issue.error} />
      <div className="actions">
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="submit" className="primary" disabled={issue.isPending || !reason.trim()}>Issue credit note</button>
      </div>
    </form>
  );
}
