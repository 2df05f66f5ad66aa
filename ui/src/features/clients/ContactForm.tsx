import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, type ContactDraft, type ContactRole } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";

/// Adds a contact (a person and the role they play) to a client.
export function ContactForm({ clientId, onDone }: { clientId: number; onDone: () => void }) {
  const qc = useQueryClient();
  const [draft, setDraft] = useState<ContactDraft>({ name: "", email: "", phone: "", role: "technical" });
  const save = useMutation({
    mutationFn: () => unwrap(commands.addContact(clientId, draft)),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["client", clientId] });
      onDone();
    },
  });
  const errors = fieldErrors(save.error);
  return (
    <form className="contact-form" aria-label="Add contact"
      onSubmit={(e) => { e.preventDefault(); save.mutate(); }}
      onKeyDown={(e) => { if (e.key === "Escape") onDone(); }}>
      {(["name", "email", "phone"] as const).map((f) => (
        <label key={f} className={`field${errors[f] ? " invalid" : ""}`}>
          <span>{f[0].toUpperCase() + f.slice(1)}</span>
          <input name={f} value={draft[f]} autoFocus={f === "name"} onChange={(e) => setDraft({ ...draft, [f]: e.target.value })} />
          {errors[f] && <small className="field-error" role="alert">{errors[f]}</small>}
        </label>
      ))}
      <label className="field">
        <span>Role</span>
        <select value={draft.role ?? "technical"} onChange={(e) => setDraft({ ...draft, role: e.target.value as ContactRole })}>
          <option value="owner">owner</option>
          <option value="billing">billing</option>
          <option value="technical">technical</option>
        </select>
      </label>
      <div className="actions">
        <button type="button" onClick={onDone}>Cancel</button>
        <button className="primary" type="submit" disabled={save.isPending}>Add contact</button>
      </div>
    </form>
  );
}
