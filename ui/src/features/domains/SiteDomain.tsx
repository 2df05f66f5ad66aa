import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type Certificate, type Domain, type RecordToSet, type Site } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";
import { certificateStatus, day, domainStatus, MODE_LABELS } from "./domains";
import "./domains.css";

/// A site's domain and certificate panels (on the client page): how the domain came to be and
/// where it stands (registration, expiry, zone, or the records an owned domain needs, with a
/// "Check records"), and the certificate (level, expiry, renewal problems, bundle upload).
export function SiteDomain({ site }: { site: Site }) {
  const [open, setOpen] = useState(false);
  return (
    <span className="site-domain">
      <button className="small" aria-expanded={open} onClick={() => setOpen(!open)}>
        Domain &amp; HTTPS
      </button>
      {open && <Panels siteId={site.id} domain={site.domain} />}
    </span>
  );
}

function Panels({ siteId, domain }: { siteId: number; domain: string }) {
  const q = useQuery({ queryKey: ["site-tls", siteId], queryFn: () => unwrap(commands.getSiteTls(siteId)) });
  if (q.isPending) return <div className="panel domain-panel"><p className="muted">Loading…</p></div>;
  if (q.isError) return <div className="panel domain-panel"><ErrorNote error={q.error} /></div>;
  return (
    <div className="panel domain-panel" role="region" aria-label={`Domain and HTTPS of ${domain}`}>
      <DomainSection siteId={siteId} domain={q.data.domain} records={q.data.records} />
      <CertificateSection siteId={siteId} certificate={q.data.certificate} />
    </div>
  );
}

function DomainSection({ siteId, domain, records }: { siteId: number; domain: Domain | null; records: RecordToSet[] }) {
  const qc = useQueryClient();
  const verify = useMutation({
    mutationFn: (name: string) => unwrap(commands.verifyDomain(name)),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["site-tls", siteId] }),
  });
  if (!domain) return <section><h3>Domain</h3><p className="muted small">Not recorded (placed before domains were tracked).</p></section>;
  return (
    <section aria-label="Domain">
      <h3>Domain</h3>
      <dl className="facts">
        <dt>Name</dt><dd>{domain.name}</dd>
        <dt>Kind</dt><dd>{MODE_LABELS[domain.mode] ?? domain.mode}</dd>
        <dt>State</dt><dd><span className={`badge ${domain.state}`}>{domain.state}</span> {domainStatus(domain)}</dd>
        {domain.mode === "registered" && (
          <>
            <dt>Registrar</dt><dd>{domain.registrar ?? "—"}{domain.registrarId && <span className="muted"> #{domain.registrarId}</span>}</dd>
            <dt>Expires</dt><dd>{day(domain.expiresOn)} {domain.autoRenew ? <span className="muted small">renews with the subscription</span> : <span className="muted small">not renewed</span>}</dd>
            <dt>DNS zone</dt><dd>{domain.dnsZone ?? "—"}</dd>
          </>
        )}
      </dl>
      {domain.error && <p className="error small">{domain.error}</p>}
      {domain.mode === "owned" && (
        <>
          <p className="small">Records the client sets at their DNS host:</p>
          <table className="simple" aria-label={`Records for ${domain.name}`}>
            <thead><tr><th>Name</th><th>Type</th><th>Value</th></tr></thead>
            <tbody>
              {records.map((r) => (
                <tr key={`${r.name}-${r.type}`}><td>{r.name}</td><td>{r.type}</td><td><code>{r.value}</code></td></tr>
              ))}
            </tbody>
          </table>
          <button className="small" onClick={() => verify.mutate(domain.name)} disabled={verify.isPending}>
            Check records
          </button>
          {verify.data && <p className="small" role="status">{verify.data.verified ? "Verified: " : "Not yet: "}{verify.data.message}</p>}
          <ErrorNote error={verify.error} />
        </>
      )}
    </section>
  );
}

function CertificateSection({ siteId, certificate }: { siteId: number; certificate: Certificate | null }) {
  const qc = useQueryClient();
  const [bundle, setBundle] = useState(false);
  const done = () => {
    qc.invalidateQueries({ queryKey: ["site-tls", siteId] });
    qc.invalidateQueries({ queryKey: ["jobs"] });
  };
  const setLevel = useMutation({ mutationFn: (level: string) => unwrap(commands.setSiteSsl(siteId, level)), onSuccess: done });
  const check = useMutation({ mutationFn: () => unwrap(commands.checkSiteCertificate(siteId)), onSuccess: done });
  const job = setLevel.data ?? check.data;
  return (
    <section aria-label="Certificate">
      <h3>HTTPS certificate</h3>
      {certificate ? (
        <dl className="facts">
          <dt>Level</dt><dd>{certificateStatus(certificate)}</dd>
          {certificate.issuer && (<><dt>Issuer</dt><dd>{certificate.issuer}</dd></>)}
          {certificate.notAfter && (<><dt>Expires</dt><dd>{day(certificate.notAfter)}</dd></>)}
          {certificate.checkedAt && (<><dt>Last checked</dt><dd>{day(certificate.checkedAt)}</dd></>)}
        </dl>
      ) : (
        <p className="muted small">The subscription has no security option.</p>
      )}
      {certificate?.error && <p className="error small">{certificate.error}</p>}
      <div className="actions">
        <button className="small" onClick={() => setLevel.mutate("automatic")} disabled={setLevel.isPending}>Automatic</button>
        <button className="small" onClick={() => setBundle(!bundle)} aria-expanded={bundle}>Upload bundle…</button>
        <button className="small" onClick={() => setLevel.mutate("none")} disabled={setLevel.isPending}>No HTTPS</button>
        {certificate && certificate.level !== "none" && (
          <button className="small" onClick={() => check.mutate()} disabled={check.isPending}>Check certificate</button>
        )}
      </div>
      {job !== undefined && <p className="small">Queued as <a href={href({ section: "jobs" })}>job #{job}</a>.</p>}
      <ErrorNote error={setLevel.error ?? check.error} />
      {bundle && <BundleForm siteId={siteId} onDone={() => { setBundle(false); done(); }} />}
    </section>
  );
}

/// The certificate chain and its private key; the key goes to the keyring only.
function BundleForm({ siteId, onDone }: { siteId: number; onDone: () => void }) {
  const [chain, setChain] = useState("");
  const [key, setKey] = useState("");
  const upload = useMutation({
    mutationFn: () => unwrap(commands.uploadSslBundle({ siteId, certificatePem: chain }, key)),
    onSuccess: () => { setKey(""); onDone(); },
  });
  return (
    <form className="bundle-form" onSubmit={(e) => { e.preventDefault(); upload.mutate(); }}>
      <label>
        Certificate and chain (PEM)
        <textarea rows={5} value={chain} onChange={(e) => setChain(e.target.value)} spellCheck={false} />
      </label>
      <label>
        Private key (PEM) — kept in the OS keyring, never in the database
        <textarea rows={4} value={key} onChange={(e) => setKey(e.target.value)} spellCheck={false} autoComplete="off" />
      </label>
      <ErrorNote error={upload.error} />
      <button type="submit" disabled={upload.isPending || !chain.trim() || !key.trim()}>Upload</button>
    </form>
  );
}
