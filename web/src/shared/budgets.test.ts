import { describe, expect, it } from "vitest";
import { barValue, describeLimits, formatUsedPercent, gaugeLevel, parseLimit, parseThresholds, warningPercent } from "./budgets";

const budget = (spent: string, reserved = "0", thresholds = [50, 80, 100], limit = "10") => ({ limit, spent, reserved, thresholds });

describe("gaugeLevel", () => {
  it("is ok below the warning threshold, near from it, over at the limit", () => {
    expect(gaugeLevel(budget("7.99"))).toBe("ok");
    expect(gaugeLevel(budget("8"))).toBe("near");
    expect(gaugeLevel(budget("9.999999"))).toBe("near");
    expect(gaugeLevel(budget("10"))).toBe("over");
    expect(gaugeLevel(budget("12.5"))).toBe("over");
  });
  it("counts what is held for calls in flight", () => {
    expect(gaugeLevel(budget("5", "3"))).toBe("near");
    expect(gaugeLevel(budget("5", "5"))).toBe("over");
  });
  it("uses the budget's own highest threshold under 100", () => {
    expect(gaugeLevel(budget("6", "0", [60, 100]))).toBe("near");
    expect(gaugeLevel(budget("5.9", "0", [60, 100]))).toBe("ok");
    expect(warningPercent([100, 150])).toBe(80);
  });
  it("treats a zero limit as reached", () => {
    expect(gaugeLevel(budget("0", "0", [50], "0"))).toBe("over");
  });
  it("decides with decimals, not floats", () => {
    // 0.1 + 0.2 reaches 0.3 exactly; in floats it would be 0.30000000000000004.
    expect(gaugeLevel(budget("0.1", "0.2", [50], "0.3"))).toBe("over");
    expect(gaugeLevel(budget("0.29999999999999999", "0", [100], "0.3"))).toBe("near");
  });
});

describe("display helpers", () => {
  it("formats the API's percent half-even to one decimal", () => {
    expect(formatUsedPercent("12.25")).toBe("12.2%");
    expect(formatUsedPercent(null)).toBe("n/a");
    expect(formatUsedPercent("12.35")).toBe("12.4%");
    expect(formatUsedPercent("100")).toBe("100.0%");
  });
  it("clamps the bar to 0..100", () => {
    expect(barValue("10", "2.5")).toBe(25);
    expect(barValue("10", "25")).toBe(100);
    expect(barValue("0", "0")).toBe(100);
  });
  it("describes rate limits", () => {
    expect(describeLimits(null, null)).toBe("no limit");
    expect(describeLimits(60, null)).toBe("60 req/min");
    expect(describeLimits(60, 1000)).toBe("60 req/min, 1000 tokens/min");
  });
});

describe("form parsers", () => {
  it("reads a limit: empty is none, whole numbers of at least 1", () => {
    expect(parseLimit("", "Requests per minute")).toEqual({ value: null });
    expect(parseLimit(" 60 ", "Requests per minute")).toEqual({ value: 60 });
    expect(parseLimit("0", "Requests per minute")).toHaveProperty("error");
    expect(parseLimit("1.5", "Requests per minute")).toHaveProperty("error");
    expect(parseLimit("-3", "Tokens per minute")).toHaveProperty("error");
  });
  it("reads thresholds", () => {
    expect(parseThresholds("50, 80,100")).toEqual({ value: [50, 80, 100] });
    expect(parseThresholds("")).toEqual({ value: [] });
    expect(parseThresholds("50, eighty")).toHaveProperty("error");
  });
});
