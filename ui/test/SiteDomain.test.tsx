import { describe, expect, it } from "vitest";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { CatalogOverview, Certificate, Domain, DomainAvailability, Site, SiteTls } from "../src/bindings";
import { DomainAvailability as AvailabilityCheck } from "../src/features/domains/DomainAvailability";
import { SiteDomain } from "../src/features/domains/SiteDomain";
import { certificateStatus, checkLine, chosenDomainMode, daysUntil, domainStatus } from "../src/features/domains/domains";

function wrap(node: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<QueryClientProvider client={qc}>{node}</QueryClientProvider>);
}

const SITE: Site = {
  id: 5, subscriptionId: 7, domain: "lumiere.fr", serverId: 1, platform: "", profile: "",
  remoteId: null, status: "active", createdAt: "2026-11-22T10:00:00Z",
};

function domain(over: Partial<Domain>): Domain {
  return {
    id: 3, name: "lumiere.fr", mode: "owned", clientId: 1, clientName: "Lumière", subscriptionId: 7, siteId: 5,
    orderId: 2, state: "verifying", registrar: null, registrarId: null, years: 1, costMinor: null, costCurrency: null,
    registeredOn: null, expiresOn: null, autoRenew: true, invoiceId: 4, refundMinor: 0, creditNote: null,
    dnsZone: null, targetIp: null, verifiedAt: null, checkedAt: null, error: "lumiere.fr does not resolve yet",
    createdAt: "2026-11-22T10:00:00Z", updatedAt: "2026-11-22T10:00:00Z", ...over,
  };
}

function cert(over: Partial<Certificate>): Certificate {
  return {
    id: 1, siteId: 5, domain: "lumiere.fr", level: "automatic", state: "active", hasBundle: false,
    issuer: "Pebble Intermediate CA", serial: "0a", notBefore: "2026-11-22T00:00:00Z", notAfter: "2027-02-20T00:00:00Z",
    checkedAt: "2026-11-22T12:00:00Z", error: null, createdAt: "2026-11-22T10:00:00Z", updatedAt: "2026-11-22T10:00:00Z",
    ...over,
  };
}

describe("domain helpers", () => {
  it("say where a domain and a certificate stand", () => {
    expect(domainStatus(domain({}))).toBe("waiting for the client's DNS records");
    expect(domainStatus(domain({ mode: "registered", state: "active", expiresOn: "2027-11-22" }))).toBe("registered until 2027-11-22");
    expect(domainStatus(domain({ mode: "registered", state: "failed", creditNote: "CN-2026-000001" }))).toContain("credited back");
    expect(certificateStatus(cert({}))).toBe("Automatic certificate, valid until 2027-02-20");
    expect(certificateStatus(cert({ level: "none" }))).toBe("No HTTPS");
    expect(certificateStatus(cert({ state: "failed" }))).toContain("needs attention");
    expect(daysUntil("2027-02-20T00:00:00Z", "2027-02-10")).toBe(10);
  });
  it("reads an availability check", () => {
    const c: DomainAvailability = { domain: "lumiere.com", available: true, premium: false, price: "10.88", currency: "USD", years: 1, known: false, note: null };
    expect(checkLine(c)).toBe("lumiere.com — available, 10.88 USD / 1 y");
    expect(checkLine({ ...c, available: false })).toBe("lumiere.com — taken");
  });
});

describe("SiteDomain", () => {
  it("shows an owned domain's records, checks them, and sets the certificate level", async () => {
    const calls: string[] = [];
    let verified = false;
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      calls.push(cmd);
      if (cmd === "get_site_tls") {
        const tls: SiteTls = {
          siteId: 5,
          domain: verified ? domain({ state: "active", verifiedAt: "2026-11-22T11:00:00Z", error: null }) : domain({}),
          records: [
            { name: "lumiere.fr", type: "A", value: "203.0.113.10" },
            { name: "www.lumiere.fr", type: "CNAME", value: "lumiere.fr." },
          ],
          certificate: cert({}),
        };
        return tls;
      }
      if (cmd === "verify_domain") {
        verified = true;
        return { domain: a.domain, expected: "203.0.113.10", found: ["203.0.113.10"], verified: true, message: "lumiere.fr points at 203.0.113.10" };
      }
      if (cmd === "set_site_ssl") return 41;
    });
    wrap(<SiteDomain site={SITE} />);
    await userEvent.click(screen.getByRole("button", { name: "Domain & HTTPS" }));
    const records = await screen.findByRole("table", { name: "Records for lumiere.fr" });
    expect(within(records).getByText("203.0.113.10")).toBeTruthy();
    expect(screen.getByText("lumiere.fr does not resolve yet")).toBeTruthy();
    expect(screen.getByText("Automatic certificate, valid until 2027-02-20")).toBeTruthy();

    await userEvent.click(screen.getByRole("button", { name: "Check records" }));
    expect(await screen.findByRole("status")).toHaveProperty("textContent", "Verified: lumiere.fr points at 203.0.113.10");
    expect(await screen.findByText("verified")).toBeTruthy();

    await userEvent.click(screen.getByRole("button", { name: "No HTTPS" }));
    expect(await screen.findByText("job #41")).toBeTruthy();
    expect(calls).toContain("set_site_ssl");
  });

  it("uploads a bundle with its key and never shows the key back", async () => {
    let sent: Record<string, unknown> | null = null;
    mockIPC((cmd, args) => {
      if (cmd === "get_site_tls") return { siteId: 5, domain: null, records: [], certificate: null } satisfies SiteTls;
      if (cmd === "upload_ssl_bundle") {
        sent = args as Record<string, unknown>;
        return 42;
      }
    });
    wrap(<SiteDomain site={SITE} />);
    await userEvent.click(screen.getByRole("button", { name: "Domain & HTTPS" }));
    await userEvent.click(await screen.findByRole("button", { name: "Upload bundle…" }));
    await userEvent.type(screen.getByLabelText("Certificate and chain (PEM)"), "CHAIN");
    await userEvent.type(screen.getByLabelText(/Private key/), "SECRETKEY");
    await userEvent.click(screen.getByRole("button", { name: "Upload" }));
    await screen.findByRole("button", { name: "Upload bundle…" });
    expect(sent).toEqual({ upload: { siteId: 5, certificatePem: "CHAIN" }, keyPem: "SECRETKEY" });
    expect(document.body.textContent).not.toContain("SECRETKEY");
  });
});

describe("the order wizard's domain step", () => {
  const catalog = {
    products: [], tiers: [], kits: [],
    options: [{
      id: 1, productCode: null, code: "domain", name: "Domain",
      choices: [
        { id: 1, code: "subdomain", name: "Subdomain", quota: null, feature: "", ssl: null, domainMode: "subdomain", prices: [] },
        { id: 2, code: "registered", name: "New domain", quota: null, feature: "", ssl: null, domainMode: "registered", prices: [] },
      ],
    }],
  } as unknown as CatalogOverview;

  it("knows the chosen domain mode", () => {
    const plan = { kind: "product" as const, code: "oa" };
    expect(chosenDomainMode(catalog, { plan, options: { domain: "registered" } })).toBe("registered");
    expect(chosenDomainMode(catalog, { plan, options: {} })).toBeNull();
    expect(chosenDomainMode(undefined, { plan, options: { domain: "registered" } })).toBeNull();
  });

  it("checks a new domain at the registrar", async () => {
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "check_domains") {
        asked.push(args);
        const r: DomainAvailability[] = [{ domain: "lumiere.com", available: true, premium: false, price: "10.88", currency: "USD", years: 1, known: false, note: null }];
        return r;
      }
    });
    wrap(<AvailabilityCheck domain="lumiere.com" mode="registered" />);
    await userEvent.click(screen.getByRole("button", { name: "Check availability" }));
    const list = await screen.findByRole("list", { name: "Availability" });
    expect(list.textContent).toBe("lumiere.com — available, 10.88 USD / 1 y");
    expect(asked).toEqual([{ domains: ["lumiere.com"], years: 1 }]);
  });

  it("says nothing for a subdomain", () => {
    wrap(<AvailabilityCheck domain="acme" mode="subdomain" />);
    expect(screen.queryByTestId("domain-availability")).toBeNull();
  });
});
