// The overview's totals and the clients it cannot price (docs/currencies.md): a client whose usage
// needs an exchange rate that is missing is listed apart, and no total is added up without it.

export interface UnpricedView {
  client: { name: string };
  base: string;
  quote: string;
  day: string; // YYYY-MM-DD, agency time zone
}

/** Why the money totals are shown or not: "unpriced" wins (setting a rate is the fix). */
export type TotalsState = "shown" | "mixed" | "unpriced";

export function totalsState(overview: { currency?: string | null; unpriced: readonly unknown[] }): TotalsState {
  if (overview.unpriced.length > 0) return "unpriced";
  return overview.currency ? "shown" : "mixed";
}

/** The sentence shown instead of the totals. */
export function totalsNote(state: Exclude<TotalsState, "shown">, unpriced: number): string {
  if (state === "mixed") return "Clients bill in different currencies: totals are shown per client only.";
  const who = unpriced === 1 ? "1 client has" : `${unpriced} clients have`;
  return `No totals while ${who} no figures (a missing exchange rate, below): they would leave it out.`;
}

/** "Acme: no USD→EUR rate in force on 2026-04-03: add one on the Settings page". */
export function unpricedNotice(unpriced: UnpricedView, writable: boolean): string {
  const fix = writable ? "add one on the Settings page" : "an owner or admin can add one on the Settings page";
  return `${unpriced.client.name}: no ${unpriced.base}→${unpriced.quote} rate in force on ${unpriced.day}: ${fix}`;
}
