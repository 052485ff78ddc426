import { describe, expect, it } from "vitest";
import {
  compareDecimals,
  formatDateTime,
  formatMoney,
  formatRatio,
  isNegative,
  periodOf,
  shiftPeriod,
  startOfPeriod,
  sum,
} from "./format";

describe("formatMoney", () => {
  it("rounds half-even to the currency's minor unit", () => {
    expect(formatMoney("1.005", "USD", "en-US")).toBe("$1.00");
    expect(formatMoney("1.015", "USD", "en-US")).toBe("$1.02");
    expect(formatMoney("1234567.125", "USD", "en-US")).toBe("$1,234,567.12");
  });

  it("keeps digits that a float would lose", () => {
    expect(formatMoney("90071992547409.935", "USD", "en-US")).toBe("$90,071,992,547,409.94");
  });

  it("shows sub-cent amounts with up to six decimals", () => {
    expect(formatMoney("0.000123456", "USD", "en-US")).toBe("$0.000123");
    expect(formatMoney("0.0000000042", "USD", "en-US")).toBe("$0.0000000042");
    expect(formatMoney("0.00000000425", "USD", "en-US")).toBe("$0.0000000042");
    expect(formatMoney("0", "USD", "en-US")).toBe("$0.00");
  });

  it("uses the currency's own minor unit and symbol", () => {
    expect(formatMoney("1500.5", "JPY", "en-US")).toBe("¥1,500");
    expect(formatMoney("12.5", "EUR", "de-DE")).toBe("12,50\u00a0€");
  });

  it("shows losses with a sign", () => {
    expect(formatMoney("-25.5", "USD", "en-US")).toBe("-$25.50");
    expect(isNegative("-0.01")).toBe(true);
    expect(isNegative("0")).toBe(false);
    expect(isNegative("-0")).toBe(false);
  });
});

describe("decimals", () => {
  it("sums and compares exactly", () => {
    expect(sum(["0.1", "0.2"])).toBe("0.3");
    expect(compareDecimals("10", "9.99")).toBe(1);
    expect(compareDecimals("-1", "0")).toBe(-1);
    expect(compareDecimals(null, "0")).toBe(1);
  });

  it("formats ratios as percents", () => {
    expect(formatRatio("0.230769")).toBe("23.1%");
    expect(formatRatio("-0.5")).toBe("-50.0%");
    expect(formatRatio(null)).toBe("n/a");
  });
});

describe("dates and periods", () => {
  it("shows an instant in the agency's zone", () => {
    const iso = "2026-01-31T23:30:00+00:00";
    expect(formatDateTime(iso, "UTC", "en-GB")).toBe("31 Jan 2026, 23:30");
    expect(formatDateTime(iso, "Europe/Paris", "en-GB")).toBe("1 Feb 2026, 00:30");
  });

  it("finds the month in the agency's zone", () => {
    const instant = new Date("2026-01-31T23:30:00Z");
    expect(periodOf(instant, "UTC")).toBe("2026-01");
    expect(periodOf(instant, "Asia/Tokyo")).toBe("2026-02");
  });

  it("finds when a month starts in the agency's zone", () => {
    expect(startOfPeriod("2026-02", "UTC")).toBe("2026-02-01T00:00:00.000Z");
    expect(startOfPeriod("2026-02", "Europe/Paris")).toBe("2026-01-31T23:00:00.000Z");
    expect(startOfPeriod("2026-04", "America/New_York")).toBe("2026-04-01T04:00:00.000Z");
    expect(startOfPeriod("2026-11", "America/New_York")).toBe("2026-11-01T04:00:00.000Z");
    expect(startOfPeriod("2026-03", "Asia/Kolkata")).toBe("2026-02-28T18:30:00.000Z");
  });

  it("steps months across years", () => {
    expect(shiftPeriod("2026-01", -1)).toBe("2025-12");
    expect(shiftPeriod("2025-12", 1)).toBe("2026-01");
    expect(shiftPeriod("2026-05", 0)).toBe("2026-05");
  });
});
