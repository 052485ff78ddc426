// Settling calls billed on an estimate (a crashed process, a cut stream) at the provider's own
// figures (docs/reconciliation.md): what a settlement did in words, which tokens the form starts
// from, and the form's checks before the API checks them again.

export type SettlementOutcome = "UNCHANGED" | "CREDITED" | "WALLET_CREDITED" | "ABSORBED" | "BILLED" | "WALLET_DRAWN";

/** What was done with the charge difference (negative amount: the client had paid too much). */
export const OUTCOME_LABELS: Record<SettlementOutcome, string> = {
  UNCHANGED: "Estimate was right: nothing moved",
  CREDITED: "Credited on the next invoice",
  WALLET_CREDITED: "Credited to the wallet",
  ABSORBED: "Absorbed by the agency",
  BILLED: "Billed on the next invoice",
  WALLET_DRAWN: "Drawn from the wallet",
};

export const OUTCOME_COLORS: Record<SettlementOutcome, string> = {
  UNCHANGED: "gray",
  CREDITED: "teal",
  WALLET_CREDITED: "teal",
  ABSORBED: "yellow",
  BILLED: "blue",
  WALLET_DRAWN: "blue",
};

export interface Tokens {
  input: number;
  cachedInput: number;
  cacheWrite: number;
  output: number;
}

/** The form's token fields as typed. */
export interface TokenDraft {
  input: string;
  output: string;
  cachedInput: string;
  cacheWrite: string;
}

export type PrefillSource = "provider" | "estimate";

/** Far above any model's context and output, as the API bounds it: beyond it is a typo. */
export const MAX_SETTLED_TOKENS = 100_000_000;

/** The provider-implied tokens when the provider's hour tells them, else the estimate to correct. */
export function prefill(call: { estimated: Tokens; suggested?: Tokens | null }): { draft: TokenDraft; source: PrefillSource } {
  const from = call.suggested ?? call.estimated;
  return {
    draft: {
      input: String(from.input),
      output: String(from.output),
      cachedInput: String(from.cachedInput),
      cacheWrite: String(from.cacheWrite),
    },
    source: call.suggested ? "provider" : "estimate",
  };
}

const FIELD_NAMES: Record<keyof TokenDraft, string> = {
  input: "Input tokens",
  output: "Output tokens",
  cachedInput: "Cached input tokens",
  cacheWrite: "Cache write tokens",
};

/** Whole, non-negative token counts; cached and cache-write tokens are part of the input. */
export function parseTokens(draft: TokenDraft): { value: Tokens } | { error: string } {
  const value: Partial<Tokens> = {};
  for (const name of ["input", "output", "cachedInput", "cacheWrite"] as const) {
    const text = draft[name].trim();
    const optional = name === "cachedInput" || name === "cacheWrite";
    if (text === "" && optional) {
      value[name] = 0;
      continue;
    }
    if (!/^\d+$/.test(text)) return { error: `${FIELD_NAMES[name]} must be a whole number of 0 or more.` };
    const count = Number(text);
    if (count > MAX_SETTLED_TOKENS) {
      return { error: `${FIELD_NAMES[name]} is at most ${MAX_SETTLED_TOKENS.toLocaleString("en-US")}.` };
    }
    value[name] = count;
  }
  const tokens = value as Tokens;
  if (tokens.cachedInput + tokens.cacheWrite > tokens.input) {
    return { error: "Cached and cache write tokens are part of the input: together at most the input tokens." };
  }
  return { value: tokens };
}

/** The mutation's variables, or what to fix first. */
export function settlementInput(
  draft: TokenDraft,
  reason: string,
  billShortfall: boolean,
): { value: { tokens: Tokens; reason: string; billShortfall: boolean } } | { error: string } {
  const tokens = parseTokens(draft);
  if ("error" in tokens) return tokens;
  const why = reason.trim();
  if (why === "") return { error: "Say why the call is settled (the provider's report, a ticket)." };
  return { value: { tokens: tokens.value, reason: why, billShortfall } };
}

/** "1200 in / 300 out", with the cached and cache-write parts of the input when there are any. */
export function tokensText(tokens: Tokens): string {
  const parts = [];
  if (tokens.cachedInput > 0) parts.push(`${tokens.cachedInput} cached`);
  if (tokens.cacheWrite > 0) parts.push(`${tokens.cacheWrite} cache write`);
  const input = parts.length ? `${tokens.input} in (${parts.join(", ")})` : `${tokens.input} in`;
  return `${input} / ${tokens.output} out`;
}

/** A drift row's note: "2 estimates settled"; nothing when none was. */
export function settledNote(count: number): string | null {
  if (count <= 0) return null;
  return `${count} ${count === 1 ? "estimate" : "estimates"} settled`;
}
