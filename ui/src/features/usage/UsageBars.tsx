import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, type ResourceUsage } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";
import { fill, level, limitText, quantity } from "./usage";
import "./usage.css";

/// One subscription's usage against its quotas this period: a bar per resource. Clicking a
/// resource asks for its history; "Set limit" changes the quota (pushed where enforced).
export function UsageBars({
  subscriptionId,
  resources,
  selected,
  onSelect,
}: {
  subscriptionId: number;
  resources: ResourceUsage[];
  selected?: string | null;
  onSelect?: (resource: string) => void;
}) {
  if (resources.length === 0) return <p className="muted small">No quota and no usage yet.</p>;
  return (
    <div className="usage-bars">
      {resources.map((r) => (
        <UsageBar key={r.resource} subscriptionId={subscriptionId} r={r} selected={selected === r.resource} onSelect={onSelect} />
      ))}
    </div>
  );
}

function UsageBar({
  subscriptionId,
  r,
  selected,
  onSelect,
}: {
  subscriptionId: number;
  r: ResourceUsage;
  selected: boolean;
  onSelect?: (resource: string) => void;
}) {
  const [editing, setEditing] = useState(false);
  const lv = level(r.percent);
  const label = `${r.label}: ${quantity(r.used, r.unit)} of ${limitText(r.limit, r.unit)}${r.percent != null ? ` (${r.percent}%)` : ""}`;
  const filled = fill(r.used, r.limit);
  return (
    <div className="usage-bar">
      {onSelect ? (
        <button className="link" aria-pressed={selected} onClick={() => onSelect(r.resource)} title="Show its history">
          {r.label}
        </button>
      ) : (
        <span>{r.label}</span>
      )}
      <div
        className={`meter ${lv}`}
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(filled)}
      >
        <div style={{ width: `${filled}%` }} />
      </div>
      <span className="figures">
        {quantity(r.used, r.unit)} / {limitText(r.limit, r.unit)}{" "}
        {r.percent != null && <span className={`share ${lv}`}>{r.percent}%</span>}
        {!r.measured && (
          <span className="muted" title="No server of this subscription measures it: only usage recorded by hand counts"> · manual</span>
        )}
        {r.enforced && <span className="muted" title="Pushed to the server, which enforces it"> · enforced</span>}
      </span>
      {editing ? (
        <QuotaForm subscriptionId={subscriptionId} r={r} onDone={() => setEditing(false)} />
      ) : (
        <button className="small" onClick={() => setEditing(true)}>Set limit</button>
      )}
    </div>
  );
}

function QuotaForm({ subscriptionId, r, onDone }: { subscriptionId: number; r: ResourceUsage; onDone: () => void }) {
  const qc = useQueryClient();
  const [value, setValue] = useState(r.limit == null ? "" : String(r.limit));
  const save = useMutation({
    mutationFn: () => {
      const limit = value.trim() === "" ? null : Number(value);
      return unwrap(commands.setQuota(subscriptionId, r.resource, limit));
    },
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["usage"] });
      qc.invalidateQueries({ queryKey: ["client"] });
      qc.invalidateQueries({ queryKey: ["jobs"] });
      onDone();
    },
  });
  const err = fieldErrors(save.error).limit;
  return (
    <form
      className="quota-form"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <input
        type="number"
        min={0}
        value={value}
        placeholder="unlimited"
        aria-label={`${r.label} limit in ${r.unit}`}
        onChange={(e) => setValue(e.target.value)}
        autoFocus
      />
      <button className="small primary" type="submit" disabled={save.isPending}>Save</button>
      <button className="small" type="button" onClick={onDone}>Cancel</button>
      {err ? <span className="field-error">{err}</span> : <ErrorNote error={save.error} />}
    </form>
  );
}
