import { describe, expect, it, vi } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { OrderRequest } from "../src/bindings";
import { OrderWizard } from "../src/features/orders/OrderWizard";
import { CATALOG, quoteFor } from "./orderFixtures";

const TAKEN = { code: "invalid", message: "domain: taken", fields: [{ field: "domain", message: "taken.sites.example.net is taken (site 3 of Zed)" }] };

function setup() {
  const placed: OrderRequest[] = [];
  mockIPC((cmd, args) => {
    const req = (args as { request?: OrderRequest }).request;
    switch (cmd) {
      case "get_catalog":
        return CATALOG;
      case "list_payment_methods":
        return [];
      case "quote_order":
        if (req?.domain === "taken") throw TAKEN;
        return quoteFor(req?.domain ?? "", req?.pay ?? "manual");
      case "place_order":
        placed.push(req as OrderRequest);
        return { orderId: 5, subscriptionId: 9, siteId: 4, invoice: null, state: "provisioning", jobs: [11, 12], quote: quoteFor("acme") };
    }
  });
  const onClose = vi.fn();
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <OrderWizard client={{ id: 1, name: "Atelier Lumière", currency: "EUR" }} onClose={onClose} />
    </QueryClientProvider>,
  );
  return { placed, onClose, user: userEvent.setup() };
}

describe("OrderWizard", () => {
  it("walks the steps with Enter, puts the core's errors beside the field, and places the order", async () => {
    const { placed, user } = setup();
    const drupal = await screen.findByRole("radio", { name: /Drupal site/ });
    await waitFor(() => expect(document.activeElement?.getAttribute("name")).toBe("plan"));
    await user.keyboard("{Enter}");
    expect(await screen.findByText("Choose a product or a kit.")).toBeTruthy();

    await user.click(drupal);
    expect(screen.queryByText("Choose a product or a kit.")).toBeNull();
    expect(await screen.findByTestId("running-total", {}, { timeout: 2000 })).toBeTruthy();
    await user.keyboard("{Enter}"); // -> options
    expect(await screen.findByRole("combobox", { name: "User quota" })).toBeTruthy();
    expect(screen.queryByRole("combobox", { name: /Theme/ })).toBeNull(); // oa-site's own option
    await user.keyboard("{Enter}"); // -> support
    expect(await screen.findByRole("radio", { name: /No support tier/ })).toBeTruthy();
    await user.keyboard("{Enter}"); // -> domain and payment
    const domain = await screen.findByRole("textbox", { name: /Site name/ });
    await waitFor(() => expect(document.activeElement).toBe(domain));

    await user.type(domain, "taken");
    expect(await screen.findByText(/is taken/, {}, { timeout: 2000 })).toBeTruthy();
    expect(domain.getAttribute("aria-invalid")).toBe("true");
    await user.keyboard("{Enter}");
    expect(screen.getByRole("form", { name: "Domain & payment" })).toBeTruthy(); // still here

    await user.clear(domain);
    await user.type(domain, "acme");
    await user.click(screen.getByRole("radio", { name: /Later/ }));
    expect(await screen.findByText("The site will be acme.sites.example.net on sandbox.", {}, { timeout: 2000 })).toBeTruthy();
    await user.keyboard("{Enter}"); // -> preview
    expect(await screen.findByText(/2026-11-22 – 2026-12-01 \(9\/30 days\)/)).toBeTruthy();
    expect(screen.getByTestId("first-total").textContent).toBe("3.59 EUR");

    await user.click(await screen.findByRole("button", { name: "Place order" }));
    expect(await screen.findByText("Order #5 placed")).toBeTruthy();
    expect(placed).toEqual([
      { clientId: 1, product: "drupal-site", kit: null, options: [], tier: null, period: "month", domain: "acme", server: null, pay: "later" },
    ]);
  });

  it("closes on Escape", async () => {
    const { onClose, user } = setup();
    await screen.findByRole("radio", { name: /Drupal site/ });
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalled();
  });
});
