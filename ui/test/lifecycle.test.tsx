import { describe, expect, it } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { BackupPanel, BackupView, ExpiringItem, Site, SiteRow } from "../src/bindings";
import { SiteBackups } from "../src/features/lifecycle/SiteBackups";
import { ExpiringScreen } from "../src/features/lifecycle/ExpiringScreen";
import { backupState, byUrgency, daysLeftLabel, keptLabel, retentionLabel } from "../src/features/lifecycle/lifecycle";

function wrap(node: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<QueryClientProvider client={qc}>{node}</QueryClientProvider>);
}

const SITE: Site = {
  id: 4, subscriptionId: 7, domain: "lumiere.sites.test", serverId: 1, platform: "drupal7", profile: "openatrium",
  remoteId: "lumiere.sites.test", status: "active", createdAt: "2026-02-24T09:00:00Z",
};

const ROW: SiteRow = {
  ...SITE, clientId: 3, clientName: "Lumière", clientEmail: "owner@lumiere.test", serverName: "sandbox",
  serverKind: "sandbox", updatedAt: "2026-02-24T09:00:00Z", pendingJobs: 0,
};

function view(id: number, over: Partial<BackupView["backup"]> = {}, rest: Partial<BackupView> = {}): BackupView {
  return {
    backup: {
      id, siteId: 4, domain: SITE.domain, reason: "scheduled", description: `Hostdesk scheduled backup ${id}`,
      remoteId: String(100 + id), state: "done", takenAt: `2026-03-0${id}T16:37:00Z`, sizeBytes: 1048576,
      jobId: 10 + id, deleteJobId: null, createdAt: `2026-03-0${id}T16:37:00Z`, ...over,
    },
    jobState: "succeeded", keptFor: { daily: true, weekly: false, monthly: false }, prunable: false, restorable: true,
    ...rest,
  };
}

const PANEL: BackupPanel = {
  site: ROW, canBackUp: true, canRestore: true, schedule: "daily", retention: { daily: 7, weekly: 4, monthly: 6 },
  nextBackupAt: "2026-03-04T16:37:00Z",
  backups: [
    view(3, {}, { keptFor: { daily: true, weekly: true, monthly: true } }),
    view(2, {}, { keptFor: null, prunable: true }),
    view(1, { reason: "final" }, { keptFor: null }),
  ],
};

describe("lifecycle helpers", () => {
  it("names why a backup is kept, and a dead job's backup as failed", () => {
    expect(keptLabel({ daily: true, weekly: false, monthly: true })).toBe("daily + monthly");
    expect(keptLabel(null)).toBeNull();
    expect(retentionLabel(PANEL.backups[0])).toBe("kept: daily + weekly + monthly");
    expect(retentionLabel(PANEL.backups[1])).toBe("dropped at the next prune");
    expect(retentionLabel(PANEL.backups[2])).toBe("kept (last backup before deletion)");
    expect(backupState(view(5, { state: "requested", takenAt: null }, { jobState: "dead" }))).toBe("failed");
    expect(backupState(view(5, { state: "requested", takenAt: null }, { jobState: "queued" }))).toBe("queued");
  });
  it("says when things end and puts the ended first", () => {
    expect([daysLeftLabel(0), daysLeftLabel(1), daysLeftLabel(5), daysLeftLabel(-1), daysLeftLabel(-3)]).toEqual([
      "today", "tomorrow", "in 5 days", "ended yesterday", "ended 3 days ago",
    ]);
    const item = (subject: string, daysLeft: number) => ({ subject, daysLeft }) as ExpiringItem;
    expect(byUrgency([item("b", 3), item("a", -2), item("c", 3)]).map((i) => i.subject)).toEqual(["a", "b", "c"]);
  });
});

describe("SiteBackups", () => {
  it("lists the backups with their retention and restores a chosen one after a confirmation", async () => {
    const restored: { siteId: number; backupId: number }[] = [];
    mockIPC((cmd, args) => {
      const a = args as Record<string, number>;
      if (cmd === "get_backup_panel") return PANEL;
      if (cmd === "restore_backup") {
        restored.push({ siteId: a.siteId, backupId: a.backupId });
        return 77;
      }
    });
    wrap(<SiteBackups site={SITE} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Backups" }));
    const table = await screen.findByRole("table", { name: `Backup list of ${SITE.domain}` });
    expect(within(table).getAllByRole("row")).toHaveLength(4);
    expect(within(table).getByText("kept: daily + weekly + monthly")).toBeTruthy();
    expect(screen.getByText(/Daily backups · keep 7 daily, 4 weekly, 6 monthly · next 2026-03-04 16:37 UTC/)).toBeTruthy();

    // Choose the backup of 2 March: a confirmation names it; cancel does nothing.
    await user.click(within(table).getByRole("button", { name: "Restore backup 2" }));
    let dialog = screen.getByRole("dialog", { name: `Restore ${SITE.domain}` });
    expect(within(dialog).getByText("2026-03-02 16:37 UTC")).toBeTruthy();
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(restored).toEqual([]);

    await user.click(within(table).getByRole("button", { name: "Restore backup 2" }));
    dialog = screen.getByRole("dialog", { name: `Restore ${SITE.domain}` });
    await user.click(within(dialog).getByRole("button", { name: "Restore this backup" }));
    await waitFor(() => expect(restored).toEqual([{ siteId: 4, backupId: 2 }]));
    expect(await within(dialog).findByText("job #77")).toBeTruthy();
  });

  it("offers no restore or backup where the server cannot", async () => {
    mockIPC((cmd) => {
      if (cmd === "get_backup_panel") return { ...PANEL, canBackUp: false, canRestore: false, nextBackupAt: null };
    });
    wrap(<SiteBackups site={SITE} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Backups" }));
    await screen.findByText("The server of this site cannot back up sites.");
    expect(screen.queryByRole("button", { name: /Restore/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "Back up now" })).toBeNull();
  });
});

describe("ExpiringScreen", () => {
  it("lists what ends, ended first, and converts a trial", async () => {
    const items: ExpiringItem[] = [
      { kind: "trial", subject: "trial", clientId: 3, clientName: "Lumière", subscriptionId: 7, sites: "lumiere.sites.test",
        expiresOn: "2026-03-16", daysLeft: 3, stage: "running", renews: false },
      { kind: "term", subject: "atrium", clientId: 5, clientName: "Acme", subscriptionId: 9, sites: "acme.sites.test",
        expiresOn: "2026-03-10", daysLeft: -3, stage: "expired", renews: false },
      { kind: "domain", subject: "lumiere.fr", clientId: 3, clientName: "Lumière", subscriptionId: null, sites: "lumiere.fr",
        expiresOn: "2026-03-20", daysLeft: 7, stage: "active", renews: true },
    ];
    const converted: unknown[] = [];
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      if (cmd === "list_expiring") return a.days === 30 ? items : [];
      if (cmd === "get_term_policy") return { reminderDays: [7, 1], graceDays: 14 };
      if (cmd === "get_catalog") return { products: [], options: [], tiers: [], kits: [] };
      if (cmd === "convert_subscription") {
        converted.push([a.id, a.product]);
        return { subscriptionId: a.id, state: "active", jobs: [41], change: null };
      }
      if (cmd === "run_expire_check") {
        return { subscriptions: 1, reminders: 1, expired: 0, backedUp: 0, deleted: 0, domainReminders: 0, held: [], jobs: [12] };
      }
    });
    wrap(<ExpiringScreen />);
    const user = userEvent.setup();
    const table = await screen.findByRole("table", { name: "Expiring soon" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(within(rows[0]).getByText("Fixed term")).toBeTruthy();
    expect(within(rows[0]).getByText("ended 3 days ago")).toBeTruthy();
    expect(within(rows[1]).getByText("in 3 days")).toBeTruthy();
    expect(within(rows[2]).getByText("Domain")).toBeTruthy();
    expect(within(rows[2]).getByText("renews")).toBeTruthy();
    expect(within(rows[2]).queryByRole("button")).toBeNull();
    expect(screen.getByText(/14 days after the end the site is backed up one last time and deleted/)).toBeTruthy();

    await user.click(within(rows[1]).getByRole("button", { name: "Convert subscription 7" }));
    const dialog = screen.getByRole("dialog", { name: "Convert subscription 7" });
    await user.click(within(dialog).getByRole("button", { name: "Convert" }));
    await waitFor(() => expect(converted).toEqual([[7, null]]));
    expect(await within(dialog).findByText(/its site is enabled again \(job #41\)/)).toBeTruthy();
    await user.click(within(dialog).getByRole("button", { name: "Close" }));

    await user.click(screen.getByRole("button", { name: "Run expire-check now" }));
    expect(await screen.findByRole("status")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "7 days" }));
    expect(await screen.findByText("Nothing ends within 7 days.")).toBeTruthy();
  });
});
