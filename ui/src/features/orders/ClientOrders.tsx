import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { commands, type OrderView } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { formatDate } from "../../lib/format";
import { ErrorNote } from "../shell/ErrorNote";
import { orderPrice, orderWhat, progressLabel, progressTone } from "./orderProgress";
import { ApproveButton, OrderJobs, OrderProgressBar } from "./OrderStatus";

/// The client's orders on the client page: state, invoice, provisioning progress and jobs,
/// refreshed as the runner reports (useLiveQueue invalidates "orders" and "order").
export function ClientOrders({ clientId }: { clientId: number }) {
  const q = useQuery({ queryKey: ["orders", clientId], queryFn: () => unwrap(commands.listOrders(clientId)) });
  return (
    <div className="panel" aria-label="Orders">
      <h2>Orders</h2>
      <ErrorNote error={q.error} />
      {q.data?.length === 0 && <p className="muted">No orders yet.</p>}
      <div className="order-list">
        {q.data?.map((v) => <OrderCard key={v.order.id} view={v} />)}
      </div>
    </div>
  );
}

export function OrderCard({ view }: { view: OrderView }) {
  const o = view.order;
  const settled = view.progress === "completed";
  const [open, setOpen] = useState<boolean | null>(null);
  const showJobs = open ?? !settled;
  return (
    <div className="order-card" data-testid={`order-${o.id}`}>
      <header>
        <div>
          <strong>#{o.id} {o.domain}</strong>{" "}
          <span className={`badge ${progressTone(view.progress)}`}>{progressLabel(view.progress)}</span>
          <div className="muted small">
            {orderWhat(o)} · {orderPrice(o)} · pay {o.pay} · {formatDate(o.createdAt)}
            {o.invoiceNumber && <> · invoice <code>{o.invoiceNumber}</code> {view.invoiceStatus && <span className={`badge ${view.invoiceStatus}`}>{view.invoiceStatus.replace("_", " ")}</span>}</>}
          </div>
        </div>
        <div className="sub-actions">
          <ApproveButton view={view} />
          {view.jobsTotal > 0 && (
            <button className="small" onClick={() => setOpen(!showJobs)} aria-expanded={showJobs}>
              {showJobs ? "Hide jobs" : "Jobs"}
            </button>
          )}
        </div>
      </header>
      <OrderProgressBar view={view} />
      {o.error && <p className="field-error">{o.error}</p>}
      {showJobs && view.jobsTotal > 0 && <OrderJobs id={o.id} />}
    </div>
  );
}
