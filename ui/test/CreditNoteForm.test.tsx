import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { Line, Payment } from "../src/bindings";
import { CreditNoteForm } from "../src/features/invoices/CreditNoteForm";

const LINE: Line = {
  id: 1, key: "sub:7/2026-12-01/recurring", subscriptionId: 7, kind: "recurring", description: "Drupal site, December",
  periodFrom: "2026-12-01", periodTo: "2027-01-01", quantity: 1, unitPriceMinor: 3500, netMinor: 3500,
  taxRateBps: 2000, taxMinor: 700, totalMinor: 4200, facts: null, flagged: false,
} as Line;

function payment(method: string): Payment {
  return { id: 3, invoiceId: 9, method, reference: "INV-2026-000009", amountMinor: 4200, currency: "EUR", state: "succeeded",
    gatewayRef: "ch_1", error: null, createdAt: "2026-12-01T10:00:00Z" };
}

function setup(payments: Payment[]) {
  const calls: unknown[] = [];
  mockIPC((cmd, args) => {
    if (cmd !== "create_credit_note") return null;
    calls.push(args);
    const a = args as { lines: { amount: string | null }[] };
    if (a.lines[0]?.amount === "99.00") {
      throw { code: "invalid", message: "amount: too much", fields: [{ field: "amount", message: "only 35.00 remains to credit on this line" }] };
    }
    return { id: 2, invoiceId: 9, number: "CN-2026-000002", reason: "goodwill", netMinor: -200, taxMinor: -40, totalMinor: -240,
      issuedAt: "2026-12-05T10:00:00Z",
      settlement: { applied: "0.00", toCredit: "0.00", refunds: [{ refundId: 4, jobId: 17, amount: "2.40" }] } };
  });
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <CreditNoteForm invoice="INV-2026-000009" currency="EUR" lines={[LINE]} payments={payments} onClose={() => {}} />
    </QueryClientProvider>,
  );
  return { calls, user: userEvent.setup() };
}

describe("CreditNoteForm", () => {
  it("offers a refund only when a card paid, and needs a reason", () => {
    setup([payment("manual")]);
    expect((screen.getByRole("checkbox") as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: "Issue credit note" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("credits part of a line back to the card, shows the error beside the amount, then where the money went", async () => {
    const { calls, user } = setup([payment("stripe")]);
    await user.type(screen.getByRole("textbox", { name: "Reason" }), "goodwill");
    await user.selectOptions(screen.getByRole("combobox", { name: "What to credit" }), LINE.key);
    const amount = screen.getByRole("textbox", { name: /Net amount/ });
    await user.type(amount, "99.00");
    await user.click(screen.getByRole("checkbox"));
    await user.click(screen.getByRole("button", { name: "Issue credit note" }));
    expect(await screen.findByText("only 35.00 remains to credit on this line")).toBeTruthy();

    await user.clear(amount);
    await user.type(amount, "2.00");
    await user.click(screen.getByRole("button", { name: "Issue credit note" }));
    expect(await screen.findByText(/CN-2026-000002/)).toBeTruthy();
    expect(screen.getByText(/back to the card/).textContent).toContain("2.40 EUR back to the card: job #17");
    expect(calls[1]).toEqual({ invoice: "INV-2026-000009", reason: "goodwill", lines: [{ lineKey: LINE.key, amount: "2.00" }], refund: true });
  });
});
