import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Channel } from "@tauri-apps/api/core";
import { commands, type BillRunProgress, type BillRunReport } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";

/// Preview what a bill run would issue, then issue it with a progress bar; cancel stops after
/// the client being billed (every billed client stays billed; run again to finish).
export function BillRunDialog({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const [through, setThrough] = useState("");
  const [preview, setPreview] = useState<BillRunReport | null>(null);
  const [result, setResult] = useState<BillRunReport | null>(null);
  const [progress, setProgress] = useState<BillRunProgress | null>(null);
  const [busy, setBusy] = useState<"preview" | "run" | null>(null);
  const [error, setError] = useState<unknown>(null);

  const start = async (dryRun: boolean) => {
    setBusy(dryRun ? "preview" : "run");
    setError(null);
    setProgress(null);
    const channel = new Channel<BillRunProgress>();
    channel.onmessage = (p) => setProgress(p);
    try {
      const r = await unwrap(commands.runBill({ through: through || null, dryRun }, channel));
      if (dryRun) setPreview(r);
      else {
        setResult(r);
        qc.invalidateQueries();
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const shown = result ?? preview;
  const pct = progress && progress.total > 0 ? Math.round((100 * progress.done) / progress.total) : 0;
  return (
    <div className="dialog-backdrop" role="presentation">
      <div className="dialog panel" role="dialog" aria-modal="true" aria-label="Bill run"
        onKeyDown={(e) => { if (e.key === "Escape" && !busy) onClose(); }}>
        <h2>Bill run</h2>
        <p className="muted small">
          Issues one invoice per client and billing date for every subscription due, with a gapless number. Running it
          twice adds nothing.
        </p>
        <label className="field">
          <span>Bill what is due on or before</span>
          <input type="date" value={through} onChange={(e) => { setThrough(e.target.value); setPreview(null); setResult(null); }}
            aria-label="Through date" disabled={busy !== null} />
          <small className="muted">Empty: each client's today, in the client's time zone.</small>
        </label>
        {busy && (
          <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}
            aria-label={busy === "run" ? "Issuing invoices" : "Computing the preview"}>
            <div style={{ width: `${pct}%` }} />
            <span>{progress ? `${progress.done} of ${progress.total} clients` : "starting…"}</span>
          </div>
        )}
        <ErrorNote error={error} />
        {shown && (
          <div data-testid="bill-run-summary">
            <p>
              <strong>{result ? "Issued" : "Would issue"} {shown.invoices.length} invoices</strong> ({shown.lines} lines) for{" "}
              {shown.clientsBilled} clients{shown.cancelled && " — stopped early; run again to finish"}.
            </p>
            <div className="preview-list">
              <table className="simple">
                <tbody>
                  {shown.invoices.slice(0, 200).map((i) => (
                    <tr key={`${i.clientId}-${i.billingDate}-${i.currency}`}>
                      <td>{result ? i.number : "—"}</td>
                      <td>{i.clientName}</td>
                      <td>{i.billingDate}</td>
                      <td className="num">{i.total} {i.currency}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.invoices.length > 200 && <p className="muted small">…and {shown.invoices.length - 200} more.</p>}
            </div>
          </div>
        )}
        <div className="actions">
          {busy === "run" ? (
            <button onClick={() => commands.cancelBillRun()}>Cancel</button>
          ) : (
            <button onClick={onClose} disabled={busy !== null}>Close</button>
          )}
          {!result && (
            <button onClick={() => start(true)} disabled={busy !== null}>Preview</button>
          )}
          {!result && (
            <button className="primary" onClick={() => start(false)} disabled={busy !== null || !preview || preview.invoices.length === 0}>
              {preview ? `Issue ${preview.invoices.length} invoices` : "Issue invoices"}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
