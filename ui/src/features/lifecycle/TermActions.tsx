import { useState } from "react";
import type { Subscription } from "../../bindings";
import { ConvertDialog } from "./ConvertDialog";

/// On a subscription row of the client page: when it ends (a trial or fixed term) and "Convert".
export function TermActions({ sub }: { sub: Subscription }) {
  const [open, setOpen] = useState(false);
  const ends = sub.expiresOn;
  const ended = sub.state === "expired";
  if (!ends && !ended && !open) return null;
  return (
    <span className="row-actions">
      {ends && <span className={`badge ${ended ? "expired" : "pending"}`}>{ended ? "ended" : "ends"} {ends}</span>}
      {(ends || ended) && ["active", "suspended", "expired", "pending"].includes(sub.state) && (
        <button className="small" onClick={() => setOpen(true)}>Convert…</button>
      )}
      {open && <ConvertDialog subscriptionId={sub.id} productCode={sub.productCode} onClose={() => setOpen(false)} />}
    </span>
  );
}
