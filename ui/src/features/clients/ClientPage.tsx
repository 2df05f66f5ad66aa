import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { formatDate } from "../../lib/format";
import { ErrorNote } from "../shell/ErrorNote";
import { ClientForm } from "./ClientForm";
import { ContactForm } from "./ContactForm";
import { SiteActions } from "./SiteActions";
import { SiteDomain } from "../domains/SiteDomain";
import { ClientOrders } from "../orders/ClientOrders";
import { OrderWizard } from "../orders/OrderWizard";
import { SubscriptionActions } from "../subscriptions/SubscriptionActions";
import { ClientUsage } from "../usage/ClientUsage";
import { SiteBackups } from "../lifecycle/SiteBackups";
import { TermActions } from "../lifecycle/TermActions";

export function ClientPage({ id }: { id: number }) {
  const [editing, setEditing] = useState(false);
  const [addingContact, setAddingContact] = useState(false);
  const [ordering, setOrdering] = useState(false);
  const q = useQuery({ queryKey: ["client", id], queryFn: () => unwrap(commands.getClient(id)) });
  if (q.isPending) return <p className="muted">Loading…</p>;
  if (q.isError) return <ErrorNote error={q.error} />;
  const { client: c, contacts, subscriptions, sites, audit } = q.data;
  return (
    <section className="client-page">
      <header className="screen-head">
        <div>
          <a href="#/clients" className="muted">← Clients</a>
          <h1>
            {c.name} <span className={`badge ${c.status}`}>{c.status}</span>
          </h1>
          <p className="muted">
            {c.kind} · {c.email} · {c.country ?? "no country"} · {c.currency} · {c.timezone} · billing day {c.billingDay}
            {c.taxId && ` · tax id ${c.taxId}`}
          </p>
        </div>
        <div className="actions" style={{ marginTop: 0 }}>
          <button onClick={() => setEditing(true)}>Edit</button>
          {c.status === "active" && <button className="primary" onClick={() => setOrdering(true)}>New order</button>}
        </div>
      </header>
      {ordering && <OrderWizard client={{ id: c.id, name: c.name, currency: c.currency }} onClose={() => setOrdering(false)} />}
      {editing && (
        <ClientForm
          id={c.id}
          initial={{ ...c, kind: c.kind as "person" | "company", status: c.status as "active" | "suspended" | "closed", billingDay: c.billingDay, country: c.country ?? "" }}
          onDone={() => setEditing(false)}
        />
      )}
      <div className="columns">
        <div className="panel">
          <h2>
            Contacts{" "}
            {!addingContact && (
              <button className="small" onClick={() => setAddingContact(true)}>Add</button>
            )}
          </h2>
          {addingContact && <ContactForm clientId={c.id} onDone={() => setAddingContact(false)} />}
          {contacts.length === 0 && <p className="muted">No contacts.</p>}
          <ul className="plain">
            {contacts.map((k) => (
              <li key={k.id}>
                <strong>{k.name}</strong> <span className="badge">{k.role}</span>
                <br />
                <span className="muted">{k.email}</span>
              </li>
            ))}
          </ul>
          {c.notes && (
            <>
              <h2>Notes</h2>
              <p>{c.notes}</p>
            </>
          )}
        </div>
        <div className="panel">
          <h2>Subscriptions</h2>
          {subscriptions.length === 0 && <p className="muted">No subscriptions.</p>}
          <table className="simple">
            <tbody>
              {subscriptions.map((s) => (
                <tr key={s.id}>
                  <td>#{s.id}</td>
                  <td>
                    <strong>{s.kitCode ?? s.productCode}</strong>
                    <div className="muted small">{s.choices.join(", ")}</div>
                  </td>
                  <td><span className={`badge ${s.state}`}>{s.state}</span></td>
                  <td className="muted">
                    {s.cancelOn ? `ends ${formatDate(s.cancelOn)}` : `next ${formatDate(s.nextDueOn)}`}
                  </td>
                  <td><SubscriptionActions sub={s} /> <TermActions sub={s} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Sites</h2>
          {sites.length === 0 && <p className="muted">No sites.</p>}
          <ul className="plain">
            {sites.map((s) => (
              <li key={s.id}>
                {s.domain} <span className={`badge ${s.status}`}>{s.status}</span>
                <SiteActions site={s} />
                <SiteDomain site={s} />
                <SiteBackups site={s} />
              </li>
            ))}
          </ul>
        </div>
      </div>
      <ClientUsage clientId={c.id} />
      <ClientOrders clientId={c.id} />
      <div className="panel">
        <h2>Audit trail</h2>
        <table className="simple">
          <tbody>
            {audit.map((a) => (
              <tr key={a.id}>
                <td className="muted">{a.at.replace("T", " ").replace("Z", "")}</td>
                <td>{a.actor}</td>
                <td>{a.action}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
