import type { Quote } from "../../bindings";
import { ACTIVATION_TEXT, PAY_TEXT, firstChargeLabel, taxRateLabel, type Pay } from "./orderWizard";

/// The core's price preview: the parts of the recurring price, the prorated first charge and
/// its tax. Every amount is the core's string.
export function QuotePreview({ quote, showDomain }: { quote: Quote; showDomain: boolean }) {
  const cur = quote.currency;
  return (
    <div className="quote" data-testid="order-preview">
      <table className="simple" aria-label="Price">
        <tbody>
          {quote.parts.map((p, i) => (
            <tr key={`${p.kind}-${i}`}>
              <td>{p.label} <span className="muted small">{p.kind}</span></td>
              <td className="num">{p.amount} {cur}</td>
            </tr>
          ))}
          <tr className="total-row">
            <td><strong>Every {quote.period}</strong></td>
            <td className="num"><strong>{quote.recurring} {cur}</strong></td>
          </tr>
        </tbody>
      </table>
      <h3>First charge</h3>
      <p className="small muted" data-testid="first-period">{firstChargeLabel(quote)}: from the order to the client's billing day.</p>
      <dl className="facts small">
        <dt>Net</dt><dd>{quote.firstNet} {cur}</dd>
        <dt>Tax ({taxRateLabel(quote.taxRateBps)})</dt><dd>{quote.firstTax} {cur}</dd>
        <dt>Total</dt><dd><strong data-testid="first-total">{quote.firstTotal} {cur}</strong></dd>
        {quote.taxNote && (<><dt>Tax note</dt><dd>{quote.taxNote}</dd></>)}
        {showDomain && (<><dt>Site</dt><dd>{quote.domain} on {quote.serverName}</dd></>)}
        <dt>Start</dt><dd>{ACTIVATION_TEXT[quote.activation] ?? quote.activation}</dd>
        <dt>Payment</dt><dd>{PAY_TEXT[quote.pay as Pay] ?? quote.pay}</dd>
      </dl>
    </div>
  );
}

/// One line under the steps: what the plan costs so far.
export function RunningTotal({ quote }: { quote: Quote | undefined }) {
  if (!quote) return <span className="muted small">No price yet.</span>;
  return (
    <span className="small" data-testid="running-total">
      <strong>{quote.recurring} {quote.currency}</strong> / {quote.period} · first charge {quote.firstTotal} {quote.currency}
      <span className="muted"> ({quote.days}/{quote.daysInPeriod} days)</span>
    </span>
  );
}
