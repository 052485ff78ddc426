import { describe, expect, it } from "vitest";
import { closeRule, invoiceActions, statusHistory } from "./invoices";

describe("closeRule", () => {
  it("closes a past month as is, the current one early only, never a later one", () => {
    expect(closeRule("2026-10", "2026-11")).toEqual({ allowed: true, early: false });
    expect(closeRule("2026-11", "2026-11")).toEqual({ allowed: true, early: true });
    expect(closeRule("2026-12", "2026-11")).toHaveProperty("allowed", false);
    expect(closeRule("2025-12", "2026-01")).toEqual({ allowed: true, early: false });
    expect(closeRule("", "2026-01")).toHaveProperty("allowed", false);
  });
});

describe("statusHistory", () => {
  it("orders finalization, credit notes, payment and voiding by time", () => {
    const history = statusHistory({
      status: "PAID",
      issuedAt: "2026-11-01T00:00:00+00:00",
      paidAt: "2026-11-20T00:00:00+00:00",
      early: true,
      creditNotes: [{ number: "CN-2026-0001", issuedAt: "2026-11-10T00:00:00+00:00", amount: { amount: "5", currency: "USD" } }],
    });
    expect(history.map((h) => h.what)).toEqual(["Finalized (period closed early)", "Credit note CN-2026-0001", "Marked paid"]);
    expect(history[1]?.creditAmount).toBe("5");
  });
  it("says why an invoice was voided", () => {
    const history = statusHistory({
      status: "VOID", issuedAt: "2026-11-01T00:00:00Z", voidedAt: "2026-11-02T00:00:00Z", voidReason: "wrong plan",
      early: false, creditNotes: [],
    });
    expect(history.map((h) => h.what)).toEqual(["Finalized", "Voided: wrong plan"]);
  });
});

describe("invoiceActions", () => {
  it("allows paying and voiding a finalized invoice, crediting a finalized or paid one", () => {
    expect(invoiceActions("FINALIZED")).toEqual({ markPaid: true, void: true, creditNote: true });
    expect(invoiceActions("PAID")).toEqual({ markPaid: false, void: false, creditNote: true });
    expect(invoiceActions("VOID")).toEqual({ markPaid: false, void: false, creditNote: false });
  });
});
