// Invoice emails for display: what each delivery status means, and whether the send buttons
// are offered (finalized or paid invoices, SMTP configured) or disabled with the reason.

const STATUS_TEXT: Record<string, string> = {
  PENDING: "queued (retried with backoff)",
  SENT: "sent",
  FAILED: "failed: every attempt failed",
  NO_BILLING_EMAIL: "not sent: the client has no billing email",
  CANCELLED: "not sent: no longer needed",
};

const KIND_TEXT: Record<string, string> = {
  INVOICE: "Invoice",
  REMINDER: "Reminder",
  SUSPENSION_WARNING: "Suspension warning",
};

const STATUS_COLORS: Record<string, string> = {
  PENDING: "blue",
  SENT: "teal",
  FAILED: "red",
  NO_BILLING_EMAIL: "orange",
  CANCELLED: "gray",
};

export function deliveryStatusText(status: string): string {
  return STATUS_TEXT[status] ?? status.toLowerCase().replaceAll("_", " ");
}

export function deliveryKindText(kind: string, daysOverdue?: number | null): string {
  const base = KIND_TEXT[kind] ?? kind.toLowerCase().replaceAll("_", " ");
  return daysOverdue != null && kind !== "INVOICE" ? `${base} (${daysOverdue} days overdue)` : base;
}

export function deliveryStatusColor(status: string): string {
  return STATUS_COLORS[status] ?? "gray";
}

export interface EmailState {
  enabled: boolean;
  reason?: string | null;
}

/** Whether send/resend may be pressed, and why not. */
export function sendRule(email: EmailState, invoiceStatus: string, sentBefore: boolean): { allowed: boolean; why: string | null; resend: boolean } {
  if (!email.enabled) return { allowed: false, why: email.reason ?? "Invoice email is not configured.", resend: sentBefore };
  if (invoiceStatus !== "FINALIZED" && invoiceStatus !== "PAID") {
    return { allowed: false, why: "A void invoice is not sent.", resend: sentBefore };
  }
  return { allowed: true, why: null, resend: sentBefore };
}
