import { useEffect } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { events } from "../bindings";

/// Refetches what the screens show when the job runner reports a change.
export function useLiveQueue() {
  const qc = useQueryClient();
  useEffect(() => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    events.jobsChanged
      .listen(() => {
        qc.invalidateQueries({ queryKey: ["queue"] });
        qc.invalidateQueries({ queryKey: ["jobs"] });
        qc.invalidateQueries({ queryKey: ["job"] });
        qc.invalidateQueries({ queryKey: ["status"] });
        qc.invalidateQueries({ queryKey: ["client"] }); // a site's status follows its jobs
        qc.invalidateQueries({ queryKey: ["servers"] });
      })
      .then((unlisten) => (cancelled ? unlisten() : (stop = unlisten)))
      .catch(() => {}); // outside Tauri (browser tests) there are no events
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [qc]);
}
