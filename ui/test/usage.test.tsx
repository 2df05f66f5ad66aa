import { describe, expect, it } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { ClientUsage, Fleet, FleetRow, ResourceHistory } from "../src/bindings";
import { ClientUsage as ClientUsageSection } from "../src/features/usage/ClientUsage";
import { UsageScreen } from "../src/features/usage/UsageScreen";
import { byClient, fill, geometry, level, quantity } from "../src/features/usage/usage";

function wrap(node: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<QueryClientProvider client={qc}>{node}</QueryClientProvider>);
}

function row(over: Partial<FleetRow>): FleetRow {
  return {
    clientId: 1, clientName: "Acme", subscriptionId: 7, productName: "Hosting", resource: "disk_mb",
    used: 650, limit: 500, percent: 130, periodStart: "2026-02-01", periodEnd: "2026-03-01",
    at: "2026-02-20T12:00:00Z", ...over,
  };
}

const USAGE: ClientUsage = {
  clientId: 1, clientName: "Acme", sites: 3, sitesLimit: 2,
  subscriptions: [{
    subscriptionId: 7, productName: "Hosting", state: "active", periodStart: "2026-02-01", periodEnd: "2026-03-01",
    resources: [
      { resource: "bandwidth_mb", label: "bandwidth", unit: "MB", used: 700, limit: 1000, percent: 70, measured: true, enforced: true },
      { resource: "disk_mb", label: "disk space", unit: "MB", used: 650, limit: 500, percent: 130, measured: true, enforced: true },
      { resource: "users", label: "users", unit: "users", used: 0, limit: 10, percent: 0, measured: false, enforced: false },
    ],
  }],
  alerts: [{
    id: 4, clientId: 1, clientName: "Acme", subscriptionId: 7, resource: "disk_mb", periodStart: "2026-02-01",
    threshold: 100, used: 650, limit: 500, at: "2026-02-20T12:00:00Z", outboxId: 9, dismissedAt: null,
  }],
};

const HISTORY: ResourceHistory = {
  subscriptionId: 7, resource: "disk_mb", label: "disk space", unit: "MB", flow: false, limit: 500,
  points: [
    { day: "2026-02-10", value: 300, total: 300, limit: 500 },
    { day: "2026-02-20", value: 650, total: 650, limit: 500 },
  ],
  periods: [{ subscriptionId: 7, resource: "disk_mb", periodStart: "2026-02-01", periodEnd: "2026-03-01", used: 650, limit: 500, percent: 130, at: "2026-02-20T12:00:00Z" }],
};

describe("usage helpers", () => {
  it("says how full a quota is", () => {
    expect([level(null), level(10), level(80), level(99), level(100), level(250)]).toEqual(["none", "ok", "near", "near", "over", "over"]);
    expect([fill(50, 200), fill(300, 200), fill(0, null), fill(5, null), fill(3, 0)]).toEqual([25, 100, 0, 100, 100]);
  });
  it("reads MB as GB from 1024 MB", () => {
    expect(quantity(500, "MB")).toBe("500 MB");
    expect(quantity(1536, "MB")).toBe("1.5 GB");
    expect(quantity(204800, "MB")).toBe("200 GB");
    expect(quantity(1200, "sites")).toBe("1,200 sites");
  });
  it("scales the chart so the quota line shows, and draws one day as a level", () => {
    const g = geometry([{ day: "a", total: 0, limit: 100 }, { day: "b", total: 50, limit: 100 }], 100, 110);
    expect(g.max).toBeCloseTo(110);
    expect(g.usage).toBe("0,110 100,60");
    expect(g.limit).toBe("0,10 100,10");
    const one = geometry([{ day: "a", total: 5, limit: null }], 100, 100);
    expect(one.usage.split(" ")).toHaveLength(2);
    expect(one.limit).toBeNull();
  });
  it("groups the fleet by client, fullest first", () => {
    const groups = byClient([row({}), row({ clientId: 2, clientName: "Beta", percent: 180, resource: "sites" }), row({ resource: "bandwidth_mb", percent: 90 })]);
    expect(groups.map((g) => [g.clientName, g.worst, g.rows.length])).toEqual([["Beta", 180, 1], ["Acme", 130, 2]]);
  });
});

describe("ClientUsage", () => {
  it("shows bars against the quotas, the history chart, and sets a limit", async () => {
    const set: unknown[] = [];
    const dismissed: number[] = [];
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      if (cmd === "get_client_usage") return USAGE;
      if (cmd === "get_usage_history") return HISTORY;
      if (cmd === "dismiss_usage_alert") {
        dismissed.push(a.id as number);
        return true;
      }
      if (cmd === "set_quota") {
        set.push([a.subscriptionId, a.resource, a.limit]);
        return { subscriptionId: 7, resource: a.resource, before: 500, limit: a.limit, used: 650, percent: 65, jobs: [12] };
      }
    });
    wrap(<ClientUsageSection clientId={1} />);
    const disk = await screen.findByRole("meter", { name: "disk space: 650 MB of 500 MB (130%)" });
    expect(disk.className).toContain("over");
    expect(screen.getByRole("meter", { name: "bandwidth: 700 MB of 1,000 MB (70%)" }).className).toContain("ok");
    expect(screen.getByRole("meter", { name: "sites: 3 of 2" }).className).toContain("over");
    expect(screen.getByText(/mailed to the client/)).toBeTruthy();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "disk space" }));
    expect(await screen.findByRole("img", { name: /disk space from 2026-02-10 to 2026-02-20: now 650 MB of 500 MB/ })).toBeTruthy();
    // Set the disk limit to 1000 MB.
    const bars = screen.getAllByRole("button", { name: "Set limit" });
    await user.click(bars[1]);
    const input = screen.getByLabelText("disk space limit in MB");
    await user.clear(input);
    await user.type(input, "1000");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(set).toEqual([[7, "disk_mb", 1000]]));
    await user.click(screen.getByRole("button", { name: "Dismiss" }));
    await waitFor(() => expect(dismissed).toEqual([4]));
  });
});

describe("UsageScreen", () => {
  it("lists the clients nearest to or over their quotas and filters by share", async () => {
    const asked: number[] = [];
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      if (cmd === "get_usage_fleet") {
        asked.push(a.minPercent as number);
        const all = [row({}), row({ clientId: 2, clientName: "Beta", subscriptionId: 9, resource: "sites", used: 2, limit: 3, percent: 66 })];
        const f: Fleet = { rows: all.filter((r) => r.percent >= (a.minPercent as number)), alerts: USAGE.alerts, lastCollected: "2026-02-20T12:00:05Z" };
        return f;
      }
      if (cmd === "collect_usage") return [31];
    });
    wrap(<UsageScreen />);
    const table = await screen.findByRole("table");
    expect(within(table).getByText("Acme")).toBeTruthy();
    expect(within(table).getByText("Beta")).toBeTruthy();
    expect(screen.getByText(/Last collection: 2026-02-20 12:00/)).toBeTruthy();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Over (100%+)" }));
    await waitFor(() => expect(within(screen.getByRole("table")).queryByText("Beta")).toBeNull());
    expect(asked).toContain(100);
    await user.click(screen.getByRole("button", { name: "Collect now" }));
    expect(await screen.findByText(/Queued 1 collection job/)).toBeTruthy();
  });
});
