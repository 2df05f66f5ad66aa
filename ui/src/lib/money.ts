/// Minor units as an amount in the currency's own decimals (JPY 0, EUR 2, KWD 3), exactly: no
/// floating point on the amount. The core sends most amounts formatted; rows that carry minor
/// units (payments, credit notes, refunds) go through this.
export function formatMinor(minor: number, currency: string): string {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // an unknown code: two decimals
  }
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(minor));
  if (digits === 0) return `${sign}${abs}`;
  const unit = 10 ** digits;
  return `${sign}${Math.floor(abs / unit)}.${String(abs % unit).padStart(digits, "0")}`;
}
