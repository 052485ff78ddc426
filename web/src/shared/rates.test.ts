import { describe, expect, it } from "vitest";
import { bases, currencyCode, rateLine } from "./rates";

describe("exchange rates", () => {
  it("states a rate as the invoice does", () => {
    expect(rateLine({ base: "USD", quote: "EUR", rate: "0.923456789012", effectiveOn: "2026-04-01", source: "ECB" }))
      .toBe("1 USD = 0.923456789012 EUR (from 2026-04-01, ECB)");
    expect(rateLine({ base: "USD", quote: "JPY", rate: "151.12", effectiveOn: "2026-04-01" }))
      .toBe("1 USD = 151.12 JPY (from 2026-04-01)");
  });

  it("reads currency codes and import bases", () => {
    expect(currencyCode(" eur ")).toBe("EUR");
    expect(bases("usd, GBP usd")).toEqual(["USD", "GBP"]);
    expect(bases("  ")).toEqual(["USD"]);
  });
});
