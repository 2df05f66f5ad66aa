import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { formatCount } from "../../lib/format";
import { ErrorNote } from "../shell/ErrorNote";
import { SubscriptionsChart } from "./SubscriptionsChart";

export function Dashboard() {
  const qc = useQueryClient();
  const status = useQuery({ queryKey: ["status"], queryFn: () => unwrap(commands.getStatus()) });
  const demo = useMutation({
    mutationFn: () => unwrap(commands.loadDemo()),
    onSuccess: () => qc.invalidateQueries(),
  });

  if (status.isPending) return <p className="muted">Opening the workspace…</p>;
  if (status.isError) {
    return (
      <section>
        <h1>Dashboard</h1>
        <ErrorNote error={status.error} />
      </section>
    );
  }
  const s = status.data;
  const cards: { key: string; label: string; value: number }[] = [
    { key: "clients", label: "Clients", value: s.clients },
    { key: "subscriptions", label: "Subscriptions", value: s.subscriptions },
    { key: "sites", label: "Sites", value: s.sites },
    { key: "open-invoices", label: "Open invoices", value: s.openInvoices },
    { key: "queued-jobs", label: "Queued jobs", value: s.queuedJobs },
  ];
  return (
    <section>
      <h1>Dashboard</h1>
      {s.empty && (
        <div className="welcome" data-testid="welcome">
          <h2>Welcome to Hostdesk</h2>
          <p>
            This workspace is empty. Load the demo workspace to try Hostdesk with an Open Atrium catalog, support tiers,
            Community / Business / Enterprise kits and a few dozen clients — or start adding your own clients.
          </p>
          <button className="primary" onClick={() => demo.mutate()} disabled={demo.isPending}>
            {demo.isPending ? "Loading the demo…" : "Load the demo workspace"}
          </button>
          <ErrorNote error={demo.error} />
        </div>
      )}
      <div className="cards">
        {cards.map((c) => (
          <div className="card" key={c.key}>
            <div className="card-value" data-testid={`count-${c.key}`}>
              {formatCount(c.value)}
            </div>
            <div className="card-label">{c.label}</div>
          </div>
        ))}
      </div>
      <SubscriptionsChart />
      <dl className="facts">
        <dt>Database</dt>
        <dd data-testid="database-path">{s.database ?? "in memory"}</dd>
        <dt>Schema version</dt>
        <dd data-testid="schema-version">
          {s.schemaVersion} of {s.latestSchemaVersion}
        </dd>
        <dt>Products</dt>
        <dd>{s.products}</dd>
        {s.demo && (
          <>
            <dt>Workspace</dt>
            <dd>demo data</dd>
          </>
        )}
      </dl>
    </section>
  );
}
