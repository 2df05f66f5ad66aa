import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type ConnectionReport, type ServerDraft, type ServerView, type SyncReport } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";

const EMPTY: ServerDraft = {
  name: "",
  kind: "whm",
  baseUrl: "",
  user: "",
  masterDomain: "",
  concurrency: null,
  platforms: [],
  profiles: [],
  options: { sitesRoot: null, defaultPlatform: null, defaultDbServer: null },
};

/// Hosting servers: add one (its token goes to the OS keyring), test the connection, sync its
/// sites and see the drift staff must resolve.
export function ServersScreen() {
  const [adding, setAdding] = useState(false);
  const q = useQuery({ queryKey: ["servers"], queryFn: () => unwrap(commands.listServers()) });
  return (
    <section>
      <header className="screen-head">
        <h1>Servers</h1>
        <button className="primary" onClick={() => setAdding(true)}>Add server</button>
      </header>
      {adding && <ServerForm onDone={() => setAdding(false)} />}
      <ErrorNote error={q.error} />
      {q.data && q.data.length === 0 && (
        <div className="empty"><p>No servers yet.</p>
          <p className="muted">Add an Aegir, cPanel WHM or Caddy server — or the sandbox, a simulated server inside Hostdesk for trying the workflow.</p></div>
      )}
      {q.data?.map((s) => <ServerCard key={s.id} server={s} />)}
    </section>
  );
}

function ServerCard({ server: s }: { server: ServerView }) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [report, setReport] = useState<ConnectionReport | null>(null);
  const [sync, setSync] = useState<SyncReport | null>(null);
  const test = useMutation({
    mutationFn: () => unwrap(commands.testServer(s.id)),
    onSuccess: (r) => { setReport(r); qc.invalidateQueries({ queryKey: ["servers"] }); },
  });
  const doSync = useMutation({
    mutationFn: () => unwrap(commands.syncServer(s.id)),
    onSuccess: (r) => { setSync(r); qc.invalidateQueries({ queryKey: ["servers"] }); },
  });
  const problem = report?.problem ?? sync?.problem;
  return (
    <div className="panel" aria-label={`Server ${s.name}`}>
      <h2>
        {s.name} <span className="badge">{s.kind}</span>{" "}
        {s.simulated && <span className="badge pending">simulated</span>}{" "}
        <span className={`badge ${s.health === "ok" ? "active" : s.health === "unknown" ? "" : "suspended"}`}>{s.health}</span>
      </h2>
      <p className="small muted">
        {s.baseUrl || "inside Hostdesk"}{s.masterDomain && ` · sites under ${s.masterDomain}`} · {s.concurrency} jobs at once ·{" "}
        {s.waitingJobs} jobs waiting{s.lastSyncedAt && ` · synced ${s.lastSyncedAt.slice(0, 16).replace("T", " ")}`}
      </p>
      {s.statusText && <p className="small" data-testid="server-status">{s.statusText}</p>}
      <div className="actions" style={{ justifyContent: "flex-start" }}>
        <button onClick={() => test.mutate()} disabled={test.isPending}>{test.isPending ? "Testing…" : "Test connection"}</button>
        <button onClick={() => setEditing(true)}>Edit</button>
        {s.operations.includes("list_sites") && (
          <button onClick={() => doSync.mutate()} disabled={doSync.isPending}>{doSync.isPending ? "Syncing…" : "Sync sites"}</button>
        )}
      </div>
      {editing && (
        <ServerForm
          id={s.id}
          initial={{ name: s.name, kind: s.kind, baseUrl: s.baseUrl, user: s.user, masterDomain: s.masterDomain,
            concurrency: s.concurrency, platforms: s.platforms, profiles: s.profiles, options: s.options }}
          onDone={() => setEditing(false)}
        />
      )}
      <ErrorNote error={test.error ?? doSync.error} />
      {report?.ok && (
        <p className="small" data-testid="test-ok">
          Connected{report.version && ` — version ${report.version}`}{report.sites !== null && `, ${report.sites} sites`}
          {report.profiles.length > 0 && `, profiles: ${report.profiles.join(", ")}`}.
        </p>
      )}
      {problem && (
        <div className="error-note" role="alert" data-testid="test-problem">
          <strong>{problem.what}</strong>
          <div className="small">{problem.message}</div>
        </div>
      )}
      {sync?.ok && (
        <div className="small" data-testid="drift">
          <p>{sync.remoteSites} sites on the server.{" "}
            {sync.drift.remoteOnly.length + sync.drift.localOnly.length + sync.drift.statusDiffers.length === 0 && "No drift."}</p>
          {sync.drift.remoteOnly.length > 0 && <p>On the server, unknown here: {sync.drift.remoteOnly.map((x) => x.name).join(", ")}</p>}
          {sync.drift.localOnly.length > 0 && <p>Here, missing on the server: {sync.drift.localOnly.map((x) => x.domain).join(", ")}</p>}
          {sync.drift.statusDiffers.length > 0 && <p>Status differs: {sync.drift.statusDiffers.map((x) => x.domain).join(", ")}</p>}
        </div>
      )}
    </div>
  );
}

function ServerForm({ id, initial, onDone }: { id?: number; initial?: ServerDraft; onDone: () => void }) {
  const qc = useQueryClient();
  const [draft, setDraft] = useState<ServerDraft>(initial ?? EMPTY);
  const [token, setToken] = useState("");
  const add = useMutation({
    mutationFn: async () =>
      id ? (await unwrap(commands.editServer(id, draft, token || null))).id : unwrap(commands.addServer(draft, token || null)),
    onSuccess: () => { qc.invalidateQueries({ queryKey: ["servers"] }); onDone(); },
  });
  const errs = fieldErrors(add.error);
  const input = (k: "name" | "baseUrl" | "user" | "masterDomain", label: string, placeholder = "") => (
    <label className={`field${errs[k] ? " invalid" : ""}`}>
      <span>{label}</span>
      <input name={k} value={draft[k]} placeholder={placeholder} onChange={(e) => setDraft({ ...draft, [k]: e.target.value })} />
      {errs[k] && <small className="field-error" role="alert">{errs[k]}</small>}
    </label>
  );
  return (
    <form className="panel form" aria-label={id ? "Edit server" : "Add server"} onSubmit={(e) => { e.preventDefault(); add.mutate(); }}
      onKeyDown={(e) => { if (e.key === "Escape") onDone(); }}>
      <h2>{id ? `Edit ${initial?.name}` : "New server"}</h2>
      <div className="grid">
        {input("name", "Name", "web1")}
        <label className="field"><span>Kind</span>
          <select value={draft.kind} onChange={(e) => setDraft({ ...draft, kind: e.target.value })}>
            <option value="whm">cPanel WHM</option>
            <option value="aegir">Aegir (hosting_saas)</option>
            <option value="caddy">Caddy</option>
            <option value="sandbox">Sandbox (simulated)</option>
          </select></label>
        {input("baseUrl", "Base URL", "https://whm.example.com:2087")}
        {input("user", "User", "root")}
        {input("masterDomain", "Master domain", "sites.example.net")}
        <label className="field"><span>Jobs at once</span>
          <input name="concurrency" type="number" min={1} max={64} value={draft.concurrency ?? ""} placeholder="4"
            onChange={(e) => setDraft({ ...draft, concurrency: e.target.value === "" ? null : Number(e.target.value) })} /></label>
        <label className={`field${errs.token ? " invalid" : ""}`}><span>{id ? "New API token (leave empty to keep)" : "API token (kept in the OS keyring)"}</span>
          <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} />
          {errs.token && <small className="field-error" role="alert">{errs.token}</small>}</label>
      </div>
      <ErrorNote error={add.error && !Object.keys(errs).length ? add.error : null} />
      <div className="actions">
        <button type="button" onClick={onDone}>Cancel</button>
        <button className="primary" type="submit" disabled={add.isPending}>{id ? "Save" : "Add server"}</button>
      </div>
    </form>
  );
}
