import { useDeferredValue, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { commands, type ClientSort } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { navigate } from "../../lib/route";
import { formatCount, formatDate } from "../../lib/format";
import { ErrorNote } from "../shell/ErrorNote";
import { ClientForm } from "./ClientForm";
import { PAGE_SIZE, useClientPages, type Filters } from "./useClientPages";

const ROW_HEIGHT = 36;

const COLUMNS: { key: ClientSort | null; label: string; width: string }[] = [
  { key: "name", label: "Name", width: "28%" },
  { key: "email", label: "E-mail", width: "30%" },
  { key: null, label: "Country", width: "9%" },
  { key: "status", label: "Status", width: "11%" },
  { key: null, label: "Subs", width: "8%" },
  { key: "created", label: "Since", width: "14%" },
];

export function ClientsScreen() {
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState<string>("");
  const [product, setProduct] = useState<string>("");
  const [sort, setSort] = useState<ClientSort>("name");
  const [descending, setDescending] = useState(false);
  const [adding, setAdding] = useState(false);
  const [active, setActive] = useState(0);
  const deferredSearch = useDeferredValue(search);

  const catalog = useQuery({ queryKey: ["catalog"], queryFn: () => unwrap(commands.getCatalog()) });

  const filters: Filters = {
    search: deferredSearch,
    status: status || null,
    product: product || null,
    sort,
    descending,
  };

  const scrollRef = useRef<HTMLDivElement>(null);
  const [visiblePages, setVisiblePages] = useState<number[]>([0]);
  const pages = useClientPages(filters, visiblePages);
  const virtualizer = useVirtualizer({
    count: pages.total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    onChange: (v) => {
      const items = v.getVirtualItems();
      const wanted = [...new Set(items.map((i) => Math.floor(i.index / PAGE_SIZE)))];
      setVisiblePages((old) => (old.join() === wanted.join() ? old : wanted));
    },
  });

  const toggleSort = (key: ClientSort) => {
    if (key === sort) setDescending(!descending);
    else {
      setSort(key);
      setDescending(false);
    }
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (pages.total === 0) return;
    const move = (to: number) => {
      const next = Math.max(0, Math.min(pages.total - 1, to));
      setActive(next);
      virtualizer.scrollToIndex(next, { align: "auto" });
      e.preventDefault();
    };
    if (e.key === "ArrowDown") move(active + 1);
    else if (e.key === "ArrowUp") move(active - 1);
    else if (e.key === "PageDown") move(active + 15);
    else if (e.key === "PageUp") move(active - 15);
    else if (e.key === "Enter") {
      const row = pages.rowAt(active);
      if (row) navigate({ section: "clients", id: row.id });
    }
  };

  return (
    <section className="clients-screen">
      <header className="screen-head">
        <h1>Clients</h1>
        <button className="primary" onClick={() => setAdding(true)}>
          Add client
        </button>
      </header>
      {adding && (
        <ClientForm
          onDone={(id) => {
            setAdding(false);
            if (id) navigate({ section: "clients", id });
          }}
        />
      )}
      <div className="toolbar">
        <input
          type="search"
          data-search
          aria-label="Search clients"
          placeholder="Search names, e-mails, contacts, domains…  ( / )"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            setActive(0);
            scrollRef.current?.scrollTo({ top: 0 });
          }}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown") scrollRef.current?.focus();
          }}
        />
        <select aria-label="Filter by status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">All statuses</option>
          <option value="active">Active</option>
          <option value="suspended">Suspended</option>
          <option value="closed">Closed</option>
        </select>
        <select aria-label="Filter by product" value={product} onChange={(e) => setProduct(e.target.value)}>
          <option value="">All products</option>
          {catalog.data?.products.map((p) => (
            <option key={p.code} value={p.code}>
              {p.name}
            </option>
          ))}
        </select>
        <span className="muted" data-testid="client-total" aria-live="polite">
          {pages.isLoading
            ? "…"
            : pages.truncated
              ? `${formatCount(pages.total)}+ clients — type more to narrow`
              : `${formatCount(pages.total)} clients`}
        </span>
      </div>
      <ErrorNote error={pages.error} />
      <div className="table" role="grid" aria-rowcount={pages.total} aria-label="Clients">
        <div className="thead" role="row">
          {COLUMNS.map((c) => (
            <div key={c.label} role="columnheader" style={{ width: c.width }}
              aria-sort={c.key === sort ? (descending ? "descending" : "ascending") : undefined}>
              {c.key ? (
                <button className="sort" onClick={() => toggleSort(c.key as ClientSort)}>
                  {c.label} {c.key === sort ? (descending ? "▼" : "▲") : ""}
                </button>
              ) : (
                c.label
              )}
            </div>
          ))}
        </div>
        <div className="tbody" ref={scrollRef} tabIndex={0} onKeyDown={onKeyDown} data-testid="client-rows">
          {pages.total === 0 && !pages.isLoading && (
            <div className="empty-row">{search ? `No client matches “${search}”.` : "No clients yet."}</div>
          )}
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {virtualizer.getVirtualItems().map((v) => {
              const row = pages.rowAt(v.index);
              return (
                <div
                  key={v.key}
                  role="row"
                  aria-rowindex={v.index + 1}
                  className={`tr${v.index === active ? " active" : ""}`}
                  style={{ position: "absolute", top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${v.start}px)` }}
                  onClick={() => {
                    setActive(v.index);
                    if (row) navigate({ section: "clients", id: row.id });
                  }}
                >
                  {row ? (
                    <>
                      <div role="gridcell" style={{ width: COLUMNS[0].width }} className="strong">{row.name}</div>
                      <div role="gridcell" style={{ width: COLUMNS[1].width }}>{row.email}</div>
                      <div role="gridcell" style={{ width: COLUMNS[2].width }}>{row.country ?? "—"}</div>
                      <div role="gridcell" style={{ width: COLUMNS[3].width }}>
                        <span className={`badge ${row.status}`}>{row.status}</span>
                      </div>
                      <div role="gridcell" style={{ width: COLUMNS[4].width }}>{row.subscriptions}</div>
                      <div role="gridcell" style={{ width: COLUMNS[5].width }}>{formatDate(row.createdAt)}</div>
                    </>
                  ) : (
                    <div role="gridcell" className="muted">Loading…</div>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}
