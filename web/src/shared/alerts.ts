// Alerts and webhook deliveries for display: kind names, details with amounts formatted from
// their decimal strings in the alert's currency and times in the agency's zone.
import { D, formatDateTime, formatMoney } from "./format";

const KIND_LABELS: Record<string, string> = {
  BUDGET_THRESHOLD: "Budget threshold",
  HARD_LIMIT_REFUSED: "Hard limit refused",
  SPEND_SPIKE: "Spend spike",
  RECONCILIATION_DRIFT: "Provider bill drift",
  INVOICE_OVERDUE: "Invoice overdue",
  SUSPENSION_WARNING: "Suspension ahead",
  CLIENT_SUSPENDED: "Suspended for non-payment",
  INVOICE_REFUSED: "Invoice not issued",
  PAYMENT_FAILED: "Payment failed",
  PAYMENT_REFUNDED: "Payment refunded",
  PAYMENT_DISPUTED: "Payment disputed",
  PAYMENT_UNMATCHED: "Payment to review",
  WALLET_REFUSED: "Wallet refused calls",
  WALLET_LOW_BALANCE: "Wallet balance low",
  WALLET_SHORTFALL: "Wallet short of fixed amounts",
  AUTO_TOP_UP_FAILED: "Auto top-up failed",
  BUDGET_UNCOUNTED: "Budget not counting calls",
};

/** Every alert kind a webhook can subscribe to, in the API's order. */
export const ALERT_KINDS = [
  "BUDGET_THRESHOLD", "HARD_LIMIT_REFUSED", "SPEND_SPIKE", "RECONCILIATION_DRIFT",
  "INVOICE_OVERDUE", "SUSPENSION_WARNING", "CLIENT_SUSPENDED", "INVOICE_REFUSED",
  "PAYMENT_FAILED",
  "PAYMENT_REFUNDED",
  "PAYMENT_DISPUTED",
  "PAYMENT_UNMATCHED",
  "WALLET_REFUSED",
  "WALLET_LOW_BALANCE",
  "WALLET_SHORTFALL",
  "AUTO_TOP_UP_FAILED",
  "BUDGET_UNCOUNTED",
] as const;

export function alertKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind.toLowerCase().replaceAll("_", " ");
}

/** Kinds of the agency's own alerts (no client): only webhooks with no client receive them. */
export const AGENCY_KINDS: readonly string[] = ["RECONCILIATION_DRIFT", "INVOICE_REFUSED", "BUDGET_UNCOUNTED"];

/** The kinds a webhook may subscribe to: a client's webhook, only those about a client. */
export function kindsFor(forClient: boolean): readonly string[] {
  return forClient ? ALERT_KINDS.filter((kind) => !AGENCY_KINDS.includes(kind)) : ALERT_KINDS;
}

/** A webhook's subscription: an empty list, or every kind it may get, means every kind. */
export function describeEvents(events: readonly string[], forClient = false): string {
  if (events.length === 0 || kindsFor(forClient).every((kind) => events.includes(kind))) return "every alert kind";
  return events.map(alertKindLabel).join(", ");
}

// Details that are amounts in the alert's `currency` detail, or instants (docs/alerts.md).
const MONEY_DETAILS = new Set([
  "last_hour", "hourly_average", "floor", "spent", "limit", "amount", "recorded_cost", "reported_cost", "drift",
]);
const TIME_DETAILS = new Set(["hour"]);
const BASIS_LABELS: Record<string, string> = { charge: "client charges", cost: "provider cost" };

export interface DetailText {
  label: string;
  text: string;
}

function isDecimal(value: string): boolean {
  try {
    new D(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * An alert's details as label and text: amounts in its currency (rounded half-even like every
 * amount shown), times in `zone`; the currency itself is folded into the amounts.
 */
export function describeDetails(
  details: readonly { name: string; value: string }[],
  zone: string,
  locale?: string,
): DetailText[] {
  const currency = details.find((d) => d.name === "currency")?.value;
  return details
    .filter((d) => !(d.name === "currency" && currency))
    .map(({ name, value }) => {
      const label = name.replaceAll("_", " ");
      if (MONEY_DETAILS.has(name) && currency && isDecimal(value)) {
        return { label, text: formatMoney(value, currency, locale) };
      }
      if (TIME_DETAILS.has(name) && !Number.isNaN(Date.parse(value))) {
        return { label, text: formatDateTime(value, zone, locale) };
      }
      if (name === "basis") return { label: "measured on", text: BASIS_LABELS[value] ?? value };
      return { label, text: value };
    });
}

/** What the last attempt of a delivery got: an HTTP (or SMTP) status code, an error, or nothing yet. */
export function describeLastAttempt(lastStatusCode: number | null | undefined, lastError: string | null | undefined): string {
  const parts: string[] = [];
  if (lastStatusCode != null) parts.push(`status ${lastStatusCode}`);
  if (lastError) parts.push(lastError);
  return parts.length ? parts.join(": ") : "not tried yet";
}

const STATUS_COLORS: Record<string, string> = {
  PENDING: "yellow",
  DELIVERED: "green",
  FAILED: "red",
  CANCELLED: "gray",
};

export function deliveryStatusColor(status: string): string {
  return STATUS_COLORS[status] ?? "gray";
}
