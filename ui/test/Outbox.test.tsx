import { describe, expect, it } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { MailDetail, OutboxMail, SmtpSettings, SmtpSettingsInput } from "../src/bindings";
import { OutboxScreen } from "../src/features/outbox/OutboxScreen";

function mail(over: Partial<OutboxMail>): OutboxMail {
  return {
    id: 1, clientId: 3, toAddr: "owner@acme.test", toName: "Acme", subject: "Your site is ready",
    bodyText: "Hello Acme,\n\nYour site is ready.\n", kind: "welcome", dedupeKey: "welcome:subscription:1",
    messageId: "<abc@atrium.test>", state: "sent", attempts: 1, lastError: null,
    createdAt: "2026-11-01T09:00:00.000Z", sentAt: "2026-11-01T09:00:02Z", updatedAt: "2026-11-01T09:00:02Z", jobId: 5,
    ...over,
  };
}

const SETTINGS: SmtpSettings = {
  configured: true, host: "smtp.atrium.test", port: 587, username: "atrium", fromAddr: "billing@atrium.test",
  fromName: "Atrium", security: "starttls", passwordSet: true, passwordStoreError: null,
};

function renderScreen() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <OutboxScreen />
    </QueryClientProvider>,
  );
}

describe("OutboxScreen", () => {
  it("lists mail with state, recipient and error, retries a failed one and shows a message", async () => {
    let failed = mail({ id: 2, state: "failed", attempts: 1, toAddr: "nobody@acme.test", toName: "", subject: "Payment failed",
      lastError: "SMTP server smtp.atrium.test:587: permanent error (550): mailbox unavailable" });
    const retried: number[] = [];
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      if (cmd === "get_mail_settings") return SETTINGS;
      if (cmd === "list_outbox") return [failed, mail({})];
      if (cmd === "retry_outbox_mail") {
        retried.push(a.id as number);
        failed = { ...failed, state: "queued" };
        return failed;
      }
      if (cmd === "get_outbox_mail") {
        const m = a.id === 2 ? failed : mail({});
        const d: MailDetail = { mail: m, job: null, attempts: [] };
        return d;
      }
    });
    renderScreen();
    const user = userEvent.setup();
    const table = await screen.findByRole("table", { name: "Outbox" });
    expect(within(table).getByText("nobody@acme.test")).toBeTruthy();
    expect(within(table).getByText(/permanent error \(550\)/)).toBeTruthy();
    expect(within(table).getByText("Acme <owner@acme.test>")).toBeTruthy();
    // Only the failed one has a Retry button.
    expect(within(table).getAllByRole("button", { name: /Retry mail/ })).toHaveLength(1);
    await user.click(within(table).getByRole("button", { name: "Retry mail 2" }));
    await waitFor(() => expect(retried).toEqual([2]));
    await waitFor(() => expect(within(table).queryByRole("button", { name: /Retry mail/ })).toBeNull());

    await user.click(within(table).getByText("Your site is ready", { selector: "td" }));
    const panel = await screen.findByLabelText("Mail 1");
    expect(within(panel).getByTestId("mail-body").textContent).toContain("Your site is ready.");
    expect(within(panel).getByText("<abc@atrium.test>")).toBeTruthy();
  });

  it("saves the SMTP settings and puts the server's field errors beside the fields", async () => {
    const saved: { settings: SmtpSettingsInput; password: string | null }[] = [];
    mockIPC((cmd, args) => {
      const a = args as { settings: SmtpSettingsInput; password: string | null; clearPassword: boolean };
      if (cmd === "get_mail_settings") return { ...SETTINGS, configured: false, host: "", fromAddr: "", username: "", passwordSet: false };
      if (cmd === "list_outbox") return [];
      if (cmd === "save_mail_settings") {
        saved.push({ settings: a.settings, password: a.password });
        if (!a.settings.fromAddr.includes("@")) {
          throw { code: "invalid", message: "fromAddr: 'billing' is not an e-mail address",
            fields: [{ field: "fromAddr", message: "'billing' is not an e-mail address" }] };
        }
        return { ...SETTINGS, host: a.settings.host, fromAddr: a.settings.fromAddr };
      }
    });
    renderScreen();
    const user = userEvent.setup();
    expect(await screen.findByText(/No SMTP server is set/)).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "SMTP settings" }));
    const form = screen.getByRole("form", { name: "SMTP settings" });
    await user.type(within(form).getByRole("textbox", { name: "Host" }), "smtp.atrium.test");
    await user.type(within(form).getByRole("textbox", { name: /^From address/ }), "billing");
    await user.type(within(form).getByLabelText(/Password/), "s3cret-pw");
    await user.click(within(form).getByRole("button", { name: "Save" }));
    expect(await within(form).findByText("'billing' is not an e-mail address")).toBeTruthy();
    expect(within(form).getByRole("textbox", { name: /^From address/ }).getAttribute("aria-invalid")).toBe("true");
    await user.type(within(form).getByRole("textbox", { name: /^From address/ }), "@atrium.test");
    await user.click(within(form).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.queryByRole("form", { name: "SMTP settings" })).toBeNull());
    expect(saved).toHaveLength(2);
    expect(saved[1].settings.fromAddr).toBe("billing@atrium.test");
    expect(saved[1].settings.security).toBe("starttls");
    expect(saved[1].password).toBe("s3cret-pw");
  });
});
