import { href, type Section } from "../../lib/route";
import { ClockControl } from "../clock/ClockControl";

const ITEMS: { section: Section; label: string }[] = [
  { section: "dashboard", label: "Dashboard" },
  { section: "clients", label: "Clients" },
  { section: "catalog", label: "Catalog" },
  { section: "orders", label: "Orders" },
  { section: "invoices", label: "Invoices" },
  { section: "jobs", label: "Jobs" },
  { section: "servers", label: "Servers" },
  { section: "outbox", label: "Outbox" },
  { section: "usage", label: "Usage" },
  { section: "expiring", label: "Expiring soon" },
  { section: "settings", label: "Settings" },
];

export function NavBar({ current }: { current: Section }) {
  return (
    <nav className="nav" aria-label="Sections">
      <div className="brand">
        <span className="logo" aria-hidden>H</span> Hostdesk
      </div>
      <ul>
        {ITEMS.map((item, i) => (
          <li key={item.section}>
            <a
              href={href({ section: item.section })}
              aria-current={current === item.section ? "page" : undefined}
              title={`Alt+${i + 1}`}
            >
              {item.label}
            </a>
          </li>
        ))}
      </ul>
      <ClockControl />
    </nav>
  );
}
