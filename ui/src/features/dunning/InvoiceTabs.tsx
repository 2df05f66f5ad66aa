export type InvoiceTab = "invoices" | "dunning";

/// The Invoices screen's two views: the invoices, and those in dunning.
export function InvoiceTabs({ tab, setTab }: { tab: InvoiceTab; setTab: (t: InvoiceTab) => void }) {
  const item = (t: InvoiceTab, label: string) => (
    <button role="tab" aria-selected={tab === t} aria-pressed={tab === t} onClick={() => setTab(t)} data-tab={t}>
      {label}
    </button>
  );
  return (
    <div className="chips" role="tablist" aria-label="Invoices or dunning">
      {item("invoices", "All invoices")}
      {item("dunning", "Dunning")}
    </div>
  );
}
