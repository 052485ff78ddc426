// Prepaid wallets for display: statement entry kinds, the top-up button's state (disabled
// without a payment processor), and the amounts a form sends.
import { D } from "./format";

const ENTRY_LABELS: Record<string, string> = {
  TOP_UP: "Top-up",
  USAGE: "Usage",
  FIXED: "Fixed amount",
  REFUND: "Refund",
  ADJUSTMENT: "Adjustment",
};

export function entryKindLabel(kind: string): string {
  return ENTRY_LABELS[kind] ?? kind.toLowerCase().replaceAll("_", " ");
}

/** Whether the portal's top-up button may be pressed, and why not. */
export function topUpState(
  paymentsConfigured: boolean,
  amount: string,
): { enabled: boolean; reason: string | null } {
  if (!paymentsConfigured) return { enabled: false, reason: "Online payments are not configured by your provider." };
  const text = amount.trim();
  if (!text) return { enabled: false, reason: null };
  try {
    if (new D(text).lte(0)) return { enabled: false, reason: "Enter a positive amount." };
  } catch {
    return { enabled: false, reason: "Enter an amount such as 25 or 25.50." };
  }
  return { enabled: true, reason: null };
}

/** An optional decimal from a form: blank is null, else the trimmed text (the API checks it). */
export function optionalAmount(text: string): string | null {
  const trimmed = text.trim();
  return trimmed ? trimmed : null;
}
