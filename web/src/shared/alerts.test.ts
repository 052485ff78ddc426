import { describe, expect, it } from "vitest";
import { alertKindLabel, describeDetails, describeEvents, describeLastAttempt } from "./alerts";

describe("alertKindLabel", () => {
  it("names the known kinds and words an unknown one", () => {
    expect(alertKindLabel("SPEND_SPIKE")).toBe("Spend spike");
    expect(alertKindLabel("HARD_LIMIT_REFUSED")).toBe("Hard limit refused");
    expect(alertKindLabel("NEW_KIND")).toBe("new kind");
  });
});

const PAYMENT_KINDS = ["PAYMENT_FAILED", "PAYMENT_REFUNDED", "PAYMENT_DISPUTED", "PAYMENT_UNMATCHED"];

describe("describeEvents", () => {
  it("says every kind for an empty or complete list, else names them", () => {
    expect(describeEvents([])).toBe("every alert kind");
    const dunning = ["INVOICE_OVERDUE", "SUSPENSION_WARNING", "CLIENT_SUSPENDED"];
    const wallet = ["WALLET_REFUSED", "WALLET_LOW_BALANCE", "WALLET_SHORTFALL", "AUTO_TOP_UP_FAILED"];
    const clientKinds = ["SPEND_SPIKE", "BUDGET_THRESHOLD", "HARD_LIMIT_REFUSED", ...dunning, ...PAYMENT_KINDS, ...wallet];
    expect(describeEvents(clientKinds, true)).toBe("every alert kind");
    expect(describeEvents(["SPEND_SPIKE", "BUDGET_THRESHOLD", "HARD_LIMIT_REFUSED"])).toBe(
      "Spend spike, Budget threshold, Hard limit refused",
    );
    expect(describeEvents([...clientKinds, "RECONCILIATION_DRIFT", "INVOICE_REFUSED", "BUDGET_UNCOUNTED"])).toBe(
      "every alert kind",
    );
    expect(describeEvents(["WALLET_LOW_BALANCE"])).toBe("Wallet balance low");
    expect(describeEvents(["HARD_LIMIT_REFUSED", "SPEND_SPIKE"])).toBe("Hard limit refused, Spend spike");
  });
});

describe("describeDetails", () => {
  const spike = [
    { name: "basis", value: "charge" },
    { name: "currency", value: "EUR" },
    { name: "last_hour", value: "42.005" },
    { name: "hourly_average", value: "0.0000004" },
    { name: "factor", value: "5" },
    { name: "hour", value: "2026-11-30T05:00:00+00:00" },
  ];

  it("formats amounts in the alert's currency from their decimal strings, half-even", () => {
    const shown = describeDetails(spike, "Europe/Paris", "en-US");
    expect(shown).toContainEqual({ label: "last hour", text: "€42.00" });
    expect(shown).toContainEqual({ label: "hourly average", text: "€0.0000004" });
    expect(shown).toContainEqual({ label: "factor", text: "5" });
    expect(shown.map((d) => d.label)).not.toContain("currency");
  });

  it("keeps an amount exact past a float's digits", () => {
    const shown = describeDetails([{ name: "currency", value: "USD" }, { name: "last_hour", value: "42.000000000000000001" }], "UTC", "en-US");
    expect(shown).toEqual([{ label: "last hour", text: "$42.00" }]);
  });

  it("shows instants in the agency's zone and words the basis", () => {
    const shown = describeDetails(spike, "Europe/Paris", "en-US");
    expect(shown).toContainEqual({ label: "hour", text: "Nov 30, 2026, 6:00 AM" });
    expect(shown).toContainEqual({ label: "measured on", text: "client charges" });
  });

  it("leaves amounts as they are without a currency, and keeps odd values", () => {
    expect(describeDetails([{ name: "last_hour", value: "12.5" }], "UTC", "en-US")).toEqual([
      { label: "last hour", text: "12.5" },
    ]);
    expect(
      describeDetails([{ name: "currency", value: "USD" }, { name: "limit", value: "n/a" }], "UTC", "en-US"),
    ).toEqual([{ label: "limit", text: "n/a" }]);
  });

  it("shows nothing for an alert without figures (a portal's view of a cost alert)", () => {
    expect(describeDetails([], "UTC")).toEqual([]);
  });
});

describe("describeLastAttempt", () => {
  it("says the status code and error, or that nothing was tried", () => {
    expect(describeLastAttempt(200, null)).toBe("status 200");
    expect(describeLastAttempt(503, null)).toBe("status 503");
    expect(describeLastAttempt(null, "timed out")).toBe("timed out");
    expect(describeLastAttempt(null, "connection refused")).toBe("connection refused");
    expect(describeLastAttempt(null, null)).toBe("not tried yet");
  });
});
