import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, type Security, type SmtpSettings, type SmtpSettingsInput } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";

const PORTS: Record<Security, number> = { none: 25, starttls: 587, tls: 465 };

/// The SMTP server mail goes through. The password goes to the OS keyring; the form only ever
/// learns whether one is set. Each field's error shows beside it.
export function MailSettingsForm({ initial, onDone }: { initial: SmtpSettings; onDone: () => void }) {
  const qc = useQueryClient();
  const [draft, setDraft] = useState<SmtpSettingsInput>({
    host: initial.host,
    port: initial.host ? initial.port : null,
    username: initial.username,
    fromAddr: initial.fromAddr,
    fromName: initial.fromName,
    security: initial.security,
  });
  const [password, setPassword] = useState("");
  const [clearPassword, setClearPassword] = useState(false);
  const [testTo, setTestTo] = useState("");
  const save = useMutation({
    mutationFn: () => unwrap(commands.saveMailSettings(draft, password || null, clearPassword)),
    onSuccess: () => {
      setPassword("");
      qc.invalidateQueries({ queryKey: ["mail-settings"] });
      onDone();
    },
  });
  const test = useMutation({
    mutationFn: () => unwrap(commands.sendTestMail(testTo)),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["outbox"] }),
  });
  const errs = fieldErrors(save.error);
  const text = (k: "host" | "username" | "fromAddr" | "fromName", label: string, placeholder = "") => (
    <label className={`field${errs[k] ? " invalid" : ""}`}>
      <span>{label}</span>
      <input name={k} value={draft[k]} placeholder={placeholder} aria-invalid={errs[k] ? true : undefined}
        onChange={(e) => setDraft({ ...draft, [k]: e.target.value })} />
      {errs[k] && <small className="field-error" role="alert">{errs[k]}</small>}
    </label>
  );
  return (
    <form className="panel form" aria-label="SMTP settings" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}
      onKeyDown={(e) => { if (e.key === "Escape") onDone(); }}>
      <h2>SMTP settings</h2>
      <div className="grid">
        {text("host", "Host", "smtp.example.com")}
        <label className={`field${errs.port ? " invalid" : ""}`}><span>Port</span>
          <input name="port" type="number" value={draft.port ?? ""} placeholder={String(PORTS[draft.security])}
            aria-invalid={errs.port ? true : undefined}
            onChange={(e) => setDraft({ ...draft, port: e.target.value === "" ? null : Number(e.target.value) })} />
          {errs.port && <small className="field-error" role="alert">{errs.port}</small>}</label>
        <label className={`field${errs.security ? " invalid" : ""}`}><span>Security</span>
          <select name="security" value={draft.security} onChange={(e) => setDraft({ ...draft, security: e.target.value as Security })}>
            <option value="starttls">STARTTLS (587)</option>
            <option value="tls">TLS (465)</option>
            <option value="none">None (25, this machine only with a password)</option>
          </select>
          {errs.security && <small className="field-error" role="alert">{errs.security}</small>}</label>
        {text("fromAddr", "From address", "billing@example.com")}
        {text("fromName", "From name", "Atrium Hosting")}
        {text("username", "User name (empty: no login)")}
        <label className={`field${errs.password ? " invalid" : ""}`}>
          <span>{initial.passwordSet ? "New password (leave empty to keep)" : "Password (kept in the OS keyring)"}</span>
          <input type="password" name="password" autoComplete="off" value={password} disabled={clearPassword}
            onChange={(e) => setPassword(e.target.value)} />
          {errs.password && <small className="field-error" role="alert">{errs.password}</small>}
        </label>
        {initial.passwordSet && (
          <label className="field"><span>Stored password</span>
            <span><input type="checkbox" checked={clearPassword} onChange={(e) => setClearPassword(e.target.checked)} /> remove it</span>
          </label>
        )}
      </div>
      {initial.passwordStoreError && <p className="small muted">Password store: {initial.passwordStoreError}</p>}
      <ErrorNote error={save.error && !Object.keys(errs).length ? save.error : null} />
      <div className="actions">
        <button type="button" onClick={onDone}>Cancel</button>
        <button className="primary" type="submit" disabled={save.isPending}>Save</button>
      </div>
      {initial.configured && (
        <div className="toolbar" style={{ marginTop: 12 }}>
          <input type="email" aria-label="Test mail to" placeholder="you@example.com" value={testTo} onChange={(e) => setTestTo(e.target.value)} />
          <button type="button" onClick={() => test.mutate()} disabled={!testTo || test.isPending}>Send a test mail</button>
          {test.data && <span className="small" role="status">Test mail #{test.data.outboxId} queued.</span>}
        </div>
      )}
      <ErrorNote error={test.error} />
    </form>
  );
}
