// Invoice facts for display: the status history from the invoice's timestamps, and which
// periods can be closed from the UI (with or without `early`).

export interface InvoiceEvents {
  status: string;
  issuedAt: string;
  paidAt?: string | null;
  voidedAt?: string | null;
  voidReason?: string | null;
  early: boolean;
  creditNotes: readonly { number: string; issuedAt: string; amount: { amount: string; currency: string } }[];
}

export interface HistoryEntry {
  at: string;
  what: string;
  creditAmount?: string;
}

/** What happened to an invoice, oldest first: finalized, credit notes, paid, voided. */
export function statusHistory(invoice: InvoiceEvents): HistoryEntry[] {
  const entries: HistoryEntry[] = [
    { at: invoice.issuedAt, what: invoice.early ? "Finalized (period closed early)" : "Finalized" },
    ...invoice.creditNotes.map((note) => ({ at: note.issuedAt, what: `Credit note ${note.number}`, creditAmount: note.amount.amount })),
  ];
  if (invoice.paidAt) entries.push({ at: invoice.paidAt, what: "Marked paid" });
  if (invoice.voidedAt) entries.push({ at: invoice.voidedAt, what: `Voided: ${invoice.voidReason ?? ""}`.trim() });
  return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

export type CloseRule = { allowed: true; early: boolean } | { allowed: false; why: string };

/** A past month closes as is; the current one only early; a later one not at all (the API's rules). */
export function closeRule(period: string, current: string): CloseRule {
  if (!/^\d{4}-\d{2}$/.test(period)) return { allowed: false, why: "Pick a month." };
  if (period < current) return { allowed: true, early: false };
  if (period === current) return { allowed: true, early: true };
  return { allowed: false, why: "A month that has not started cannot be closed." };
}

export const STATUS_COLOR: Record<string, string> = { DRAFT: "gray", FINALIZED: "blue", PAID: "green", VOID: "red" };

export function statusLabel(status: string): string {
  return status.toLowerCase();
}

/** Which actions an invoice in this status allows (the API enforces the same). */
export function invoiceActions(status: string): { markPaid: boolean; void: boolean; creditNote: boolean } {
  return {
    markPaid: status === "FINALIZED",
    void: status === "FINALIZED",
    creditNote: status === "FINALIZED" || status === "PAID",
  };
}
