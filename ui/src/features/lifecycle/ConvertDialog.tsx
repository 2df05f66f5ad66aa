import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";

const SAME = "__same__";

/// Turns a trial or fixed term into an ongoing subscription: the site stays (enabled again if
/// the end disabled it); optionally moved to another (paid) product.
export function ConvertDialog({ subscriptionId, productCode, onClose }: { subscriptionId: number; productCode: string; onClose: () => void }) {
  const qc = useQueryClient();
  const [product, setProduct] = useState(SAME);
  const catalog = useQuery({ queryKey: ["catalog"], queryFn: () => unwrap(commands.getCatalog()) });
  const convert = useMutation({
    mutationFn: () => unwrap(commands.convertSubscription(subscriptionId, product === SAME ? null : product)),
    onSuccess: () => qc.invalidateQueries(),
  });
  const products = catalog.data?.products.filter((p) => p.retiredAt === null && p.code !== productCode) ?? [];
  return (
    <div className="dialog-backdrop" role="presentation">
      <div className="dialog panel" role="dialog" aria-modal="true" aria-label={`Convert subscription ${subscriptionId}`}
        onKeyDown={(e) => { if (e.key === "Escape" && !convert.isPending) onClose(); }}>
        <h2>Convert subscription #{subscriptionId}</h2>
        {convert.data === undefined ? (
          <>
            <p>
              It no longer ends: its site is kept as it is (enabled again if the end disabled it), and it is billed
              like any subscription from now on.
            </p>
            <label>
              Product
              <select value={product} onChange={(e) => setProduct(e.target.value)}>
                <option value={SAME}>Keep {productCode}</option>
                {products.map((p) => (
                  <option key={p.code} value={p.code}>{p.name} ({p.code})</option>
                ))}
              </select>
            </label>
            <ErrorNote error={convert.error} />
            <div className="actions">
              <button onClick={onClose} disabled={convert.isPending}>Cancel</button>
              <button className="primary" onClick={() => convert.mutate()} disabled={convert.isPending}>Convert</button>
            </div>
          </>
        ) : (
          <>
            <p>
              Converted: the subscription is {convert.data.state}
              {convert.data.jobs.length > 0 && `, its site is enabled again (job #${convert.data.jobs.join(", #")})`}
              {convert.data.change && `; price ${convert.data.change.oldPrice} → ${convert.data.change.newPrice}`}.
            </p>
            <div className="actions">
              <button className="primary" onClick={onClose}>Close</button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}
