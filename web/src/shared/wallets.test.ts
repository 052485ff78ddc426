import { describe, expect, it } from "vitest";
import { entryKindLabel, optionalAmount, topUpState } from "./wallets";

describe("wallets", () => {
  it("labels statement entries", () => {
    expect(entryKindLabel("TOP_UP")).toBe("Top-up");
    expect(entryKindLabel("FIXED")).toBe("Fixed amount");
    expect(entryKindLabel("SOMETHING_NEW")).toBe("something new");
  });

  it("disables the top-up button without payments or a positive amount", () => {
    expect(topUpState(false, "25")).toEqual({
      enabled: false,
      reason: "Online payments are not configured by your provider.",
    });
    expect(topUpState(true, "")).toEqual({ enabled: false, reason: null });
    expect(topUpState(true, "-3").enabled).toBe(false);
    expect(topUpState(true, "lots").enabled).toBe(false);
    expect(topUpState(true, " 25.50 ")).toEqual({ enabled: true, reason: null });
  });

  it("sends blank amounts as null", () => {
    expect(optionalAmount("  ")).toBeNull();
    expect(optionalAmount(" 10 ")).toBe("10");
  });
});
