import { IpcError } from "../../lib/ipc";

/// A failed load or action, said plainly, with the code the UI can act on.
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof IpcError ? error.code : "internal";
  return (
    <div className="error-note" role="alert" data-code={code}>
      {message}
    </div>
  );
}
