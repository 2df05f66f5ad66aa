import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { ADVANCES, clockLabel } from "./clock";
import "./clock.css";

/// The sandbox workspace's date, and the test clock: moving it lets staff preview the next bill
/// run, dunning or a renewal in the demo. Shown only where the core allows it (sandbox).
export function ClockControl() {
  const qc = useQueryClient();
  const clock = useQuery({ queryKey: ["clock"], queryFn: () => unwrap(commands.getClock()) });
  const move = useMutation({
    mutationFn: (days: number | null) => unwrap(days === null ? commands.resetClock() : commands.advanceClock(days)),
    // Every screen shows dates and amounts as of "now": refetch them all.
    onSuccess: () => qc.invalidateQueries(),
  });
  const c = clock.data;
  if (!c?.sandbox) return null;
  return (
    <div className="clock" role="group" aria-label="Sandbox clock">
      <div className="clock-head">Sandbox date</div>
      <div className="clock-date" data-testid="clock-date" title={c.now}>{clockLabel(c)}</div>
      <div className="clock-buttons">
        {ADVANCES.map((a) => (
          <button key={a.days} type="button" title={a.title} onClick={() => move.mutate(a.days)} disabled={move.isPending}>
            {a.label}
          </button>
        ))}
        <button type="button" title="Back to the real date" onClick={() => move.mutate(null)}
          disabled={move.isPending || c.offsetDays === 0}>Reset</button>
      </div>
      {move.error instanceof Error && <div className="clock-error" role="alert">{move.error.message}</div>}
    </div>
  );
}
