import { useQueries, useQuery, keepPreviousData } from "@tanstack/react-query";
import { commands, type ClientQuery, type ClientRow } from "../../bindings";
import { unwrap } from "../../lib/ipc";

export const PAGE_SIZE = 100;

export type Filters = Omit<ClientQuery, "offset" | "limit">;

function fetchPage(filters: Filters, page: number) {
  return unwrap(commands.queryClients({ ...filters, offset: page * PAGE_SIZE, limit: PAGE_SIZE }));
}

/// Loads only the pages of the clients table that are on screen: the database may hold
/// 100,000 clients, the window never asks for more than a few hundred rows at once.
export function useClientPages(filters: Filters, visiblePages: number[]) {
  const first = useQuery({
    queryKey: ["clients", filters, 0],
    queryFn: () => fetchPage(filters, 0),
    placeholderData: keepPreviousData,
  });
  const others = useQueries({
    queries: visiblePages
      .filter((p) => p > 0)
      .map((p) => ({ queryKey: ["clients", filters, p], queryFn: () => fetchPage(filters, p), staleTime: 10_000 })),
  });
  const pages = new Map<number, ClientRow[]>();
  if (first.data) pages.set(0, first.data.rows);
  visiblePages
    .filter((p) => p > 0)
    .forEach((p, i) => {
      const d = others[i]?.data;
      if (d) pages.set(p, d.rows);
    });
  return {
    total: first.data?.total ?? 0,
    truncated: first.data?.truncated ?? false,
    isLoading: first.isPending,
    isFetching: first.isFetching,
    error: first.error,
    rowAt: (index: number): ClientRow | undefined => pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE],
  };
}
