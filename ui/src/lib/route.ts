import { useEffect, useState } from "react";

export type Section =
  | "dashboard"
  | "clients"
  | "catalog"
  | "orders"
  | "invoices"
  | "jobs"
  | "servers"
  | "outbox"
  | "usage"
  | "expiring"
  | "settings";

export interface Route {
  section: Section;
  /// e.g. a client id for "#/clients/12"
  id?: number;
}

const SECTIONS: Section[] = [
  "dashboard",
  "clients",
  "catalog",
  "orders",
  "invoices",
  "jobs",
  "servers",
  "outbox",
  "usage",
  "expiring",
  "settings",
];

export function parseRoute(hash: string): Route {
  const [, section, id] = hash.replace(/^#/, "").split("/");
  const s = SECTIONS.find((x) => x === section) ?? "dashboard";
  const n = Number(id);
  return Number.isInteger(n) && n > 0 ? { section: s, id: n } : { section: s };
}

export function href(route: Route): string {
  return route.id ? `#/${route.section}/${route.id}` : `#/${route.section}`;
}

/// The current route, from the URL hash (so Back works and a route can be linked).
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function navigate(route: Route) {
  window.location.hash = href(route);
}
