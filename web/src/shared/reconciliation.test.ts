import { describe, expect, it } from "vitest";
import { driftPercent, exactAmount, pair, rowState, utcDay } from "./reconciliation";

describe("reconciliation display", () => {
  it("shows a figure once when both sides agree and both when they differ", () => {
    expect(pair(4, 4)).toBe("4");
    expect(pair(4, 5)).toBe("4 / 5");
    expect(pair(4, null)).toBe("4 / ?");
    expect(pair(null, 3)).toBe("0 / 3");
  });

  it("keeps amounts exact", () => {
    expect(exactAmount("0.0123", "USD")).toBe("0.0123 USD");
    expect(exactAmount("0.000000", "USD")).toBe("0 USD");
    expect(exactAmount(null, "USD")).toBe("?");
  });

  it("signs the drift", () => {
    expect(driftPercent("25.00")).toBe("+25.00%");
    expect(driftPercent("-1.5")).toBe("-1.50%");
    expect(driftPercent(null)).toBe("n/a");
  });

  it("puts spend outside Bizgraph before drift", () => {
    const reported = { cost: "1", requests: 1, tokens: null };
    expect(rowState({ drifting: true, notThroughBizgraph: true, reported })).toBe("outside");
    expect(rowState({ drifting: true, notThroughBizgraph: false, reported })).toBe("drift");
    expect(rowState({ drifting: false, notThroughBizgraph: false, reported })).toBe("ok");
    const nothing = { cost: null, requests: null, tokens: null };
    expect(rowState({ drifting: false, notThroughBizgraph: false, reported: nothing })).toBe("unreported");
  });

  it("counts days in UTC", () => {
    expect(utcDay(new Date("2026-12-07T00:30:00Z"), 1)).toBe("2026-12-06");
  });
});
