import { describe, expect, it, vi } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { ClientDraft, FieldErrorDto } from "../src/bindings";
import { ClientForm } from "../src/features/clients/ClientForm";

// A stand-in for the core's rules, answering over the mocked IPC like the real command does.
function check(d: ClientDraft): FieldErrorDto[] {
  const out: FieldErrorDto[] = [];
  if (!d.name.trim()) out.push({ field: "name", message: "is required" });
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(d.email)) out.push({ field: "email", message: `'${d.email}' is not an e-mail address` });
  return out;
}

function renderForm(onDone = vi.fn()) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <ClientForm onDone={onDone} />
    </QueryClientProvider>,
  );
  return onDone;
}

describe("ClientForm", () => {
  it("shows the core's message beside a field once it is left", async () => {
    const calls: string[] = [];
    mockIPC((cmd, args) => {
      calls.push(cmd);
      if (cmd === "check_client") return check((args as { draft: ClientDraft }).draft);
    });
    renderForm();
    const user = userEvent.setup();
    const email = screen.getByRole("textbox", { name: "E-mail" });
    await user.type(email, "zoe@");
    expect(screen.queryByText(/not an e-mail address/)).toBeNull(); // not while typing an untouched field
    await user.tab();
    expect(await screen.findByText("'zoe@' is not an e-mail address")).toBeTruthy();
    expect(email.getAttribute("aria-invalid")).toBe("true");
    await user.type(email, "quokka.example");
    await waitFor(() => expect(screen.queryByText(/not an e-mail address/)).toBeNull());
    expect(calls).toContain("check_client");
  });

  it("adds the client and reports the new id", async () => {
    let added: ClientDraft | null = null;
    mockIPC((cmd, args) => {
      if (cmd === "check_client") return check((args as { draft: ClientDraft }).draft);
      if (cmd === "add_client") {
        added = (args as { draft: ClientDraft }).draft;
        return 41;
      }
    });
    const onDone = renderForm();
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Name" }), "Quokka Labs");
    await user.type(screen.getByRole("textbox", { name: "E-mail" }), "zoe@quokka.example");
    await user.click(screen.getByRole("button", { name: "Add client" }));
    await waitFor(() => expect(onDone).toHaveBeenCalledWith(41));
    expect(added).toMatchObject({ name: "Quokka Labs", email: "zoe@quokka.example", currency: "EUR" });
  });

  it("puts errors from a refused save next to their fields", async () => {
    mockIPC((cmd) => {
      if (cmd === "check_client") return [];
      if (cmd === "add_client")
        throw { code: "invalid", message: "timezone: 'Mars' is not an IANA time zone", fields: [{ field: "timezone", message: "'Mars' is not an IANA time zone" }] };
    });
    const onDone = renderForm();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Add client" }));
    expect(await screen.findByText("'Mars' is not an IANA time zone")).toBeTruthy();
    expect(onDone).not.toHaveBeenCalled();
  });
});
