import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type SiteAction, type Site } from "../../bindings";
import { unwrap } from "../../lib/ipc";
import { href } from "../../lib/route";
import { ErrorNote } from "../shell/ErrorNote";

/// Actions on one site, as its server allows (each becomes a job in the queue).
export function SiteActions({ site }: { site: Site }) {
  const qc = useQueryClient();
  const servers = useQuery({ queryKey: ["servers"], queryFn: () => unwrap(commands.listServers()) });
  const act = useMutation({
    mutationFn: (a: SiteAction) => unwrap(commands.siteAction(site.id, a)),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["jobs"] }),
  });
  const server = servers.data?.find((s) => s.id === site.serverId);
  if (!server) return <span className="muted small"> · not placed on a server</span>;
  const can = (op: string) => server.operations.includes(op);
  const confirmDelete = () => {
    if (window.confirm(`Delete ${site.domain} on ${server.name}? This removes the site from the server.`)) act.mutate({ action: "delete" });
  };
  return (
    <span className="site-actions">
      <span className="muted small"> on {server.name}{server.simulated && " (simulated)"} </span>
      {can("suspend_site") && site.status === "active" && (
        <button className="small" onClick={() => act.mutate({ action: "suspend", reason: null })}>Suspend</button>
      )}
      {can("unsuspend_site") && site.status === "disabled" && (
        <button className="small" onClick={() => act.mutate({ action: "unsuspend" })}>Unsuspend</button>
      )}
      {can("login_link") && site.status === "active" && (
        <button className="small" onClick={() => act.mutate({ action: "loginLink", service: null })}>Login link</button>
      )}
      {can("delete_site") && site.status !== "deleted" && (
        <button className="small" onClick={confirmDelete}>Delete</button>
      )}
      {act.data !== undefined && (
        <span className="small"> queued as <a href={href({ section: "jobs" })}>job #{act.data}</a></span>
      )}
      <ErrorNote error={act.error} />
    </span>
  );
}
