import { useEffect } from "react";
import { useRoute, navigate, type Section } from "./lib/route";
import { Dashboard } from "./features/dashboard/Dashboard";
import { ClientsScreen } from "./features/clients/ClientsScreen";
import { ClientPage } from "./features/clients/ClientPage";
import { CatalogScreen } from "./features/catalog/CatalogScreen";
import { EmptySection } from "./features/shell/EmptySection";
import { NavBar } from "./features/shell/NavBar";
import { JobsScreen } from "./features/jobs/JobsScreen";
import { InvoicesScreen } from "./features/invoices/InvoicesScreen";
import { ServersScreen } from "./features/servers/ServersScreen";
import { OutboxScreen } from "./features/outbox/OutboxScreen";
import { OrdersScreen } from "./features/orders/OrdersScreen";
import { UsageScreen } from "./features/usage/UsageScreen";
import { ExpiringScreen } from "./features/lifecycle/ExpiringScreen";
import { useLiveQueue } from "./lib/useLiveQueue";

export function App() {
  const route = useRoute();
  useLiveQueue();

  // Alt+1..9 jump between sections; "/" focuses the page's search box.
  useEffect(() => {
    const order: Section[] = ["dashboard", "clients", "catalog", "orders", "invoices", "jobs", "servers", "outbox", "settings"];
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
      if (e.altKey && /^[1-9]$/.test(e.key)) {
        e.preventDefault();
        navigate({ section: order[Number(e.key) - 1] });
      } else if (e.key === "/" && !typing) {
        const search = document.querySelector<HTMLInputElement>("[data-search]");
        if (search) {
          e.preventDefault();
          search.focus();
        }
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  return (
    <div className="app">
      <NavBar current={route.section} />
      <main className="content">
        {route.section === "dashboard" && <Dashboard />}
        {route.section === "clients" && (route.id ? <ClientPage id={route.id} /> : <ClientsScreen />)}
        {route.section === "catalog" && <CatalogScreen />}
        {route.section === "orders" && <OrdersScreen />}
        {route.section === "invoices" && <InvoicesScreen />}
        {route.section === "jobs" && <JobsScreen />}
        {route.section === "servers" && <ServersScreen />}
        {route.section === "outbox" && <OutboxScreen />}
        {route.section === "usage" && <UsageScreen />}
        {route.section === "expiring" && <ExpiringScreen />}
        {route.section === "settings" && (
          <EmptySection title="Settings" what="Workspace settings (staff name, default billing day, mail) will be edited here; today the CLI holds them." />
        )}
      </main>
    </div>
  );
}
