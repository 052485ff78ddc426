import { describe, expect, it } from "vitest";
import { deliveryKindText, deliveryStatusText, sendRule } from "./delivery";

describe("sendRule", () => {
  it("disables sending with the server's reason when SMTP is off", () => {
    expect(sendRule({ enabled: false, reason: "SMTP is not configured" }, "FINALIZED", false)).toEqual({
      allowed: false,
      why: "SMTP is not configured",
      resend: false,
    });
  });
  it("offers send, then resend, for finalized and paid invoices only", () => {
    expect(sendRule({ enabled: true }, "FINALIZED", false)).toEqual({ allowed: true, why: null, resend: false });
    expect(sendRule({ enabled: true }, "PAID", true).resend).toBe(true);
    expect(sendRule({ enabled: true }, "VOID", false).allowed).toBe(false);
  });
});

describe("delivery texts", () => {
  it("says what a status and a kind mean", () => {
    expect(deliveryStatusText("NO_BILLING_EMAIL")).toContain("no billing email");
    expect(deliveryKindText("REMINDER", 10)).toBe("Reminder (10 days overdue)");
    expect(deliveryKindText("INVOICE", null)).toBe("Invoice");
  });
});
