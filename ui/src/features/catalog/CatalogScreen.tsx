import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type PriceRow } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";
import { ProductForm } from "./ProductForm";

function prices(list: PriceRow[]) {
  return list.map((p) => `${p.amount} ${p.currency}/${p.period}`).join(" · ") || "—";
}

export function CatalogScreen() {
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const q = useQuery({ queryKey: ["catalog"], queryFn: () => unwrap(commands.getCatalog()) });
  const retire = useMutation({
    mutationFn: (code: string) => unwrap(commands.retireProduct(code)),
    onSuccess: () => qc.invalidateQueries(),
  });
  if (q.isPending) return <p className="muted">Loading…</p>;
  if (q.isError) return <ErrorNote error={q.error} />;
  const { products, options, tiers, kits } = q.data;
  const empty = products.length === 0;
  return (
    <section>
      <header className="screen-head">
        <h1>Catalog</h1>
        <button className="primary" onClick={() => setAdding(true)}>Add product</button>
      </header>
      {adding && <ProductForm onDone={() => setAdding(false)} />}
      <ErrorNote error={retire.error} />
      {empty && (
        <div className="empty">
          <p>No products yet.</p>
          <p className="muted">Add one with <code>hostdesk product add</code>, or load the demo workspace from the dashboard.</p>
        </div>
      )}
      {!empty && (
        <>
          <div className="panel">
            <h2>Products</h2>
            <table className="simple">
              <thead>
                <tr><th>Code</th><th>Name</th><th>Kind</th><th>Profile</th><th>Prices</th><th /></tr>
              </thead>
              <tbody>
                {products.map((p) => (
                  <tr key={p.id}>
                    <td><code>{p.code}</code></td>
                    <td>{p.name}</td>
                    <td>{p.kind === "site" ? "site package" : "client account"}</td>
                    <td>{p.profile || "—"}</td>
                    <td className="small">{prices(p.prices)}</td>
                    <td>
                      {p.retiredAt ? (
                        <span className="badge closed" title={`retired ${p.retiredAt}`}>retired</span>
                      ) : (
                        <button className="small" title="No new orders; existing subscriptions are untouched"
                          onClick={() => { if (window.confirm(`Retire ${p.name}? No new orders; existing subscriptions stay as they are.`)) retire.mutate(p.code); }}>
                          Retire
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="panel">
            <h2>Options</h2>
            {options.map((o) => (
              <div key={o.id} className="option">
                <h3>
                  {o.name} <code>{o.code}</code> <span className="muted small">{o.productCode ? `for ${o.productCode}` : "every product"}</span>
                </h3>
                <table className="simple">
                  <tbody>
                    {o.choices.map((c) => (
                      <tr key={c.id}>
                        <td><code>{c.code}</code></td>
                        <td>{c.name}</td>
                        <td className="small">{prices(c.prices.filter((p) => p.amountMinor !== 0)) === "—" ? "included" : `+ ${prices(c.prices.filter((p) => p.currency === "EUR"))}`}</td>
                        <td className="small muted">
                          {c.quota && `${c.quota.resource} ${c.quota.limit ?? "unlimited"}`}
                          {c.feature && ` feature ${c.feature}`}
                          {c.ssl && ` ssl ${c.ssl}`}
                          {c.domainMode && ` domain ${c.domainMode}`}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ))}
          </div>
          <div className="columns">
            <div className="panel">
              <h2>Support tiers</h2>
              <table className="simple">
                <tbody>
                  {tiers.map((t) => (
                    <tr key={t.id}>
                      <td><strong>{t.name}</strong><div className="muted small">{t.hours} · {t.channels.join(", ")} · answer within {t.responseHours} h</div></td>
                      <td className="small">{t.grants.map((g) => `${g.role} on ${g.target}`).join(", ") || "—"}</td>
                      <td className="small">{prices(t.prices.filter((p) => p.currency === "EUR"))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="panel">
              <h2>Kits</h2>
              <table className="simple">
                <tbody>
                  {kits.map((k) => (
                    <tr key={k.id}>
                      <td><strong>{k.name}</strong><div className="muted small">{k.productCode} + {k.choices.join(", ")} + {k.tierCode ?? "no tier"}</div></td>
                      <td className="small">{prices(k.prices.filter((p) => p.currency === "EUR"))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
