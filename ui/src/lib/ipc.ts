// Turns a generated command's Result into a value or a thrown AppError, so TanStack Query sees
// failures as errors. The commands themselves come from the generated bindings only.
import type { AppError, Result } from "../bindings";

export class IpcError extends Error {
  readonly code: AppError["code"];
  readonly fields: AppError["fields"];
  constructor(e: AppError) {
    super(e.message);
    this.code = e.code;
    this.fields = e.fields;
  }
}

export async function unwrap<T>(call: Promise<Result<T, AppError>>): Promise<T> {
  const r = await call;
  if (r.status === "error") throw new IpcError(r.error);
  return r.data;
}

/// The field errors of a failed call, keyed by field name.
export function fieldErrors(e: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (e instanceof IpcError) for (const f of e.fields) out[f.field] = f.message;
  return out;
}
