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
        qc.invalidateQueries({ queryKey: ["orders"] }); // an order's progress follows its jobs
        qc.invalidateQueries({ queryKey: ["order"] });
        qc.invalidateQueries({ queryKey: ["dunning"] }); // a charge job settles an invoice
        qc.invalidateQueries({ queryKey: ["outbox"] }); // mail.send jobs move the outbox
        qc.invalidateQueries({ queryKey: ["outbox-mail"] });
        qc.invalidateQueries({ queryKey: ["usage"] }); // a collection or a quota push finished
        qc.invalidateQueries({ queryKey: ["backups"] }); // a backup, restore or prune finished
        qc.invalidateQueries({ queryKey: ["expiring"] }); // an ended site was disabled or deleted
        qc.invalidateQueries({ queryKey: ["site-tls"] }); // ssl.set / ssl.check / domain jobs moved a site's domain or certificate
        qc.invalidateQueries({ queryKey: ["invoices"] }); // a charge or a refused registration changed an invoice
        qc.invalidateQueries({ queryKey: ["invoice"] });
      })
      .then((unlisten) => (cancelled ? unlisten() : (stop = unlisten)))
      .catch(() => {}); // outside Tauri (browser tests) there are no events
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [qc]);
}
