import { describe, expect, it } from "vitest";
import { describePlan, describePlanForClient } from "./plans";

const usd = (amount: string) => ({ amount, currency: "USD" });

describe("plans in words", () => {
  it("says each plan for the agency", () => {
    expect(describePlan({ percent: "30" })).toBe("Provider cost + 30% margin");
    expect(describePlan({ monthlyFee: usd("100") })).toBe("Provider cost + $100.00 a month");
    expect(describePlan({ monthlyPrice: usd("500.5") })).toBe("Fixed price: $500.50 a month");
    expect(describePlan(null)).toBe("no plan");
  });

  it("never tells a client the agency's margin or cost", () => {
    const margin = describePlanForClient({ percent: "30" });
    expect(margin).not.toContain("30");
    expect(margin.toLowerCase()).not.toContain("cost");
    expect(describePlanForClient({ monthlyFee: usd("100") })).toBe("usage + $100.00 a month");
    expect(describePlanForClient({ monthlyPrice: usd("500") })).toBe("$500.00 a month, usage included");
  });
});
