import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { formatDate } from "../../lib/format";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";
import { orderWhat, progressLabel, progressPercent, progressTone } from "./orderProgress";
import { OrderCard } from "./ClientOrders";
import { OrderWizard } from "./OrderWizard";

const FILTERS = ["awaiting_payment", "awaiting_approval", "provisioning", "completed", "failed", "payment_failed"];

/// Every order (the newest 200), filtered by progress; a row opens its jobs beside the list.
/// "New order" starts the wizard with a client search.
export function OrdersScreen() {
  const [ordering, setOrdering] = useState(false);
  const [filter, setFilter] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const q = useQuery({ queryKey: ["orders", "all"], queryFn: () => unwrap(commands.listOrders(null)) });
  const all = q.data ?? [];
  const rows = filter ? all.filter((v) => v.progress === filter) : all;
  const chosen = all.find((v) => v.order.id === selected);
  return (
    <section>
      <header className="screen-head">
        <h1>Orders</h1>
        <button className="primary" onClick={() => setOrdering(true)}>New order</button>
      </header>
      {ordering && <OrderWizard onClose={() => setOrdering(false)} />}
      <div className="chips" role="toolbar" aria-label="Filter by progress">
        <button aria-pressed={filter === null} onClick={() => setFilter(null)}>All {all.length}</button>
        {FILTERS.map((f) => {
          const n = all.filter((v) => v.progress === f).length;
          return n > 0 || filter === f ? (
            <button key={f} aria-pressed={filter === f} onClick={() => setFilter(f)}>{progressLabel(f)} {n}</button>
          ) : null;
        })}
      </div>
      <ErrorNote error={q.error} />
      {q.data && rows.length === 0 && (
        <div className="empty"><p>No orders{filter ? ` ${progressLabel(filter)}` : ""}.</p>
          <p className="muted">Place one with “New order”, or from a client's page.</p></div>
      )}
      {rows.length > 0 && (
        <div className={`columns orders${chosen ? "" : " single"}`}>
          <div className="panel">
            <table className="simple" aria-label="Orders">
              <thead><tr><th>#</th><th>Client and site</th><th>What</th><th>Progress</th><th>Placed</th></tr></thead>
              <tbody>
                {rows.map((v) => (
                  <tr key={v.order.id} className={selected === v.order.id ? "active" : ""} tabIndex={0}
                    onClick={() => setSelected(v.order.id)} onKeyDown={(e) => { if (e.key === "Enter") setSelected(v.order.id); }}>
                    <td>{v.order.id}</td>
                    <td>
                      <a href={href({ section: "clients", id: v.order.clientId })} onClick={(e) => e.stopPropagation()}>{v.order.clientName}</a>
                      <div className="muted small">{v.order.domain}</div>
                    </td>
                    <td className="small">
                      {orderWhat(v.order)}
                      {v.order.invoiceNumber && <div className="muted">invoice {v.order.invoiceNumber}</div>}
                    </td>
                    <td className="nowrap">
                      <span className={`badge ${progressTone(v.progress)}`}>{progressLabel(v.progress)}</span>
                      <div className="mini-progress" aria-hidden><i style={{ width: `${progressPercent(v.jobsDone, v.jobsTotal)}%` }} /></div>
                    </td>
                    <td className="small nowrap">{formatDate(v.order.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {all.length >= 200 && <p className="muted small">The newest 200 orders.</p>}
          </div>
          {chosen && (
            <div className="panel" aria-label={`Order ${chosen.order.id}`}>
              <OrderCard key={chosen.order.id} view={chosen} />
            </div>
          )}
        </div>
      )}
    </section>
  );
}
