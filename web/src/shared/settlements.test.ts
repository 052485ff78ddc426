import { describe, expect, it } from "vitest";
import {
  OUTCOME_COLORS,
  OUTCOME_LABELS,
  parseTokens,
  prefill,
  settledNote,
  settlementInput,
  tokensText,
  type TokenDraft,
} from "./settlements";

const estimated = { input: 1000, cachedInput: 200, cacheWrite: 0, output: 100 };
const draft = (over: Partial<TokenDraft> = {}): TokenDraft => ({
  input: "40", output: "5", cachedInput: "0", cacheWrite: "0", ...over,
});

describe("settling an estimated call", () => {
  it("names every outcome", () => {
    for (const outcome of ["UNCHANGED", "CREDITED", "WALLET_CREDITED", "ABSORBED", "BILLED", "WALLET_DRAWN"] as const) {
      expect(OUTCOME_LABELS[outcome]).toBeTruthy();
      expect(OUTCOME_COLORS[outcome]).toBeTruthy();
    }
    expect(OUTCOME_LABELS.CREDITED).toBe("Credited on the next invoice");
    expect(OUTCOME_LABELS.ABSORBED).toBe("Absorbed by the agency");
  });

  it("starts from the provider's figure when its hour tells it, else from the estimate", () => {
    const suggested = { input: 40, cachedInput: 0, cacheWrite: 3, output: 5 };
    expect(prefill({ estimated, suggested })).toEqual({
      draft: { input: "40", output: "5", cachedInput: "0", cacheWrite: "3" },
      source: "provider",
    });
    expect(prefill({ estimated, suggested: null })).toEqual({
      draft: { input: "1000", output: "100", cachedInput: "200", cacheWrite: "0" },
      source: "estimate",
    });
    expect(prefill({ estimated }).source).toBe("estimate");
  });

  it("takes whole, non-negative token counts", () => {
    expect(parseTokens(draft({ input: " 40 " }))).toEqual({
      value: { input: 40, output: 5, cachedInput: 0, cacheWrite: 0 },
    });
    expect(parseTokens(draft({ cachedInput: "", cacheWrite: "" }))).toEqual({
      value: { input: 40, output: 5, cachedInput: 0, cacheWrite: 0 },
    });
    expect(parseTokens(draft({ input: "" }))).toEqual({ error: "Input tokens must be a whole number of 0 or more." });
    expect(parseTokens(draft({ output: "-1" }))).toEqual({ error: "Output tokens must be a whole number of 0 or more." });
    expect(parseTokens(draft({ output: "1.5" }))).toEqual({ error: "Output tokens must be a whole number of 0 or more." });
    expect(parseTokens(draft({ cacheWrite: "x" }))).toEqual({ error: "Cache write tokens must be a whole number of 0 or more." });
    expect(parseTokens(draft({ input: "100000001" }))).toEqual({ error: "Input tokens is at most 100,000,000." });
    expect(parseTokens(draft({ input: "0", output: "0" }))).toEqual({
      value: { input: 0, output: 0, cachedInput: 0, cacheWrite: 0 },
    });
  });

  it("keeps cached and cache-write tokens within the input", () => {
    expect(parseTokens(draft({ cachedInput: "30", cacheWrite: "10" }))).toEqual({
      value: { input: 40, output: 5, cachedInput: 30, cacheWrite: 10 },
    });
    expect(parseTokens(draft({ cachedInput: "30", cacheWrite: "11" }))).toHaveProperty("error");
    expect(parseTokens(draft({ cachedInput: "41" }))).toHaveProperty("error");
  });

  it("needs a reason", () => {
    expect(settlementInput(draft(), "  ", false)).toHaveProperty("error");
    expect(settlementInput(draft({ input: "a" }), "report", false)).toEqual({
      error: "Input tokens must be a whole number of 0 or more.",
    });
    expect(settlementInput(draft(), " OpenAI usage export ", true)).toEqual({
      value: {
        tokens: { input: 40, output: 5, cachedInput: 0, cacheWrite: 0 },
        reason: "OpenAI usage export",
        billShortfall: true,
      },
    });
  });

  it("shows tokens and settled counts in words", () => {
    expect(tokensText({ input: 40, cachedInput: 0, cacheWrite: 0, output: 5 })).toBe("40 in / 5 out");
    expect(tokensText(estimated)).toBe("1000 in (200 cached) / 100 out");
    expect(tokensText({ input: 10, cachedInput: 2, cacheWrite: 3, output: 0 })).toBe("10 in (2 cached, 3 cache write) / 0 out");
    expect(settledNote(0)).toBeNull();
    expect(settledNote(1)).toBe("1 estimate settled");
    expect(settledNote(2)).toBe("2 estimates settled");
  });
});
