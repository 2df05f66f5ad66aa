// Money arrives as integer minor units plus the amount string the Rust core formatted; the UI
// never does arithmetic on amounts.
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  return iso.slice(0, 10);
}

export function formatCount(n: number): string {
  return new Intl.NumberFormat("en").format(n);
}
