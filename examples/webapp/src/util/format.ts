/** `1234` cents → `"12.34 EUR"`. */
export function formatCents(cents: number, currency = "EUR"): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")} ${currency}`;
}

/** A display name: the name, or the e-mail's local part. */
export const displayName = (name: string, email: string): string => name || email.split("@")[0];
