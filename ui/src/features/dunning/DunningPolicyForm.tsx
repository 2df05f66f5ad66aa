import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type DunningPolicy } from "../../bindings";
import { fieldErrors, unwrap } from "../../lib/ipc";
import { ErrorNote } from "../shell/ErrorNote";
import { FieldError } from "../orders/WizardSteps";
import { parsePolicy, policyText, type PolicyText } from "./dunning";

const FIELDS: { key: keyof PolicyText; label: string; hint: string }[] = [
  { key: "reminderDays", label: "Reminder days", hint: "a mail this many days after the due date, e.g. 1, 7" },
  { key: "retryDays", label: "Charge retry days", hint: "charge the stored payment method again, e.g. 3, 10" },
  { key: "graceDays", label: "Grace days", hint: "then suspend the client's sites (0: never)" },
  { key: "terminateAfterDays", label: "Terminate after days", hint: "then cancel the subscriptions (0: never)" },
];

/// The dunning policy: days counted from each invoice's due date, in the client's calendar.
export function DunningPolicyForm() {
  const q = useQuery({ queryKey: ["dunning-policy"], queryFn: () => unwrap(commands.getDunningPolicy()) });
  if (!q.data) return <div className="panel"><h2>Policy</h2><ErrorNote error={q.error} /></div>;
  return <PolicyEditor key={JSON.stringify(q.data)} initial={policyText(q.data)} />;
}

function PolicyEditor({ initial }: { initial: PolicyText }) {
  const qc = useQueryClient();
  const [t, setT] = useState(initial);
  const [local, setLocal] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: (policy: DunningPolicy) => unwrap(commands.setDunningPolicy(policy)),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["dunning-policy"] }),
  });
  const errs = { ...fieldErrors(save.error), ...local };
  const general = save.error && !FIELDS.some((f) => errs[f.key]) ? save.error : null;
  const changed = JSON.stringify(t) !== JSON.stringify(initial);
  return (
    <form className="panel form policy-form" aria-label="Dunning policy"
      onSubmit={(e) => {
        e.preventDefault();
        const parsed = parsePolicy(t);
        setLocal("errors" in parsed ? parsed.errors : {});
        if ("policy" in parsed) save.mutate(parsed.policy);
      }}>
      <h2>Policy</h2>
      {FIELDS.map((f) => (
        <label key={f.key} className={`field${errs[f.key] ? " invalid" : ""}`}>
          <span>{f.label}</span>
          <input name={f.key} value={t[f.key]} inputMode={f.key === "graceDays" || f.key === "terminateAfterDays" ? "numeric" : "text"}
            aria-invalid={Boolean(errs[f.key])} aria-describedby={errs[f.key] ? `${f.key}-error` : undefined}
            onChange={(e) => { setT({ ...t, [f.key]: e.target.value }); setLocal({}); if (save.isError || save.isSuccess) save.reset(); }} />
          <small className="muted">{f.hint}</small>
          <FieldError id={f.key} message={errs[f.key]} />
        </label>
      ))}
      <ErrorNote error={general} />
      <div className="actions">
        {save.isSuccess && <span className="muted small" role="status">Saved.</span>}
        <button className="primary" type="submit" disabled={save.isPending || !changed}>Save policy</button>
      </div>
    </form>
  );
}
