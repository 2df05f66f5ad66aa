import { useMutation } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";
import { checkLine } from "./domains";

/// The order wizard's domain step, by the chosen domain option: a new domain is checked at the
/// registrar (free or taken, and its price); the client's own domain gets a reminder that its
/// records are shown, and verified, before the site goes live.
export function DomainAvailability({ domain, mode }: { domain: string; mode: string | null }) {
  const check = useMutation({ mutationFn: (d: string) => unwrap(commands.checkDomains([d], 1)) });
  const name = domain.trim();
  if (mode === "owned") {
    return (
      <p className="muted small" data-testid="domain-mode-note">
        The client&apos;s own domain: once the order is placed, its page shows the DNS records to set, and the site is
        created when they point at the server.
      </p>
    );
  }
  if (mode !== "registered") return null;
  return (
    <div className="domain-check" data-testid="domain-availability">
      <p className="muted small">
        A new domain, registered for the client after payment (renewed with the subscription). Give the full name,
        e.g. lumiere.fr.
      </p>
      <span>
        <button type="button" className="small" disabled={!name.includes(".") || check.isPending} onClick={() => check.mutate(name)}>
          Check availability
        </button>
      </span>
      {check.data && (
        <ul aria-label="Availability">
          {check.data.map((c) => (
            <li key={c.domain} className={c.available && !c.known ? "ok" : "invalid"}>{checkLine(c)}</li>
          ))}
        </ul>
      )}
      <ErrorNote error={check.error} />
    </div>
  );
}
