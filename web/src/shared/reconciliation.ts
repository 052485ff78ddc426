// The reconciliation table for display: each figure as "recorded / reported" where they
// differ ("?" when the provider does not report it), and a row's state.
import { D } from "./format";

export type RowState = "drift" | "outside" | "unreported" | "ok";

export interface RowFlags {
  drifting: boolean;
  notThroughBizgraph: boolean;
  reported: { cost?: string | null; requests?: number | null; tokens?: unknown };
}

/** Spend the provider saw that never went through Bizgraph first, then drift above the threshold. */
export function rowState(row: RowFlags): RowState {
  if (row.notThroughBizgraph) return "outside";
  if (row.drifting) return "drift";
  if (row.reported.cost == null && row.reported.requests == null && row.reported.tokens == null) return "unreported";
  return "ok";
}

export const STATE_LABELS: Record<RowState, string> = {
  drift: "Drift",
  outside: "Not through Bizgraph",
  unreported: "Not reported",
  ok: "Agrees",
};

export const STATE_COLORS: Record<RowState, string> = {
  drift: "red",
  outside: "orange",
  unreported: "gray",
  ok: "green",
};

/** "4" when both sides agree, "4 / 5" when they differ, "4 / ?" when the provider reports none. */
export function pair(recorded: number | null | undefined, reported: number | null | undefined): string {
  const ours = recorded ?? 0;
  if (reported == null) return `${ours} / ?`;
  return ours === reported ? String(ours) : `${ours} / ${reported}`;
}

/** An exact amount (the drift may be a fraction of a cent): never rounded. */
export function exactAmount(amount: string | null | undefined, currency: string): string {
  if (amount == null) return "?";
  return `${new D(amount).toFixed()} ${currency}`;
}

/** A signed drift percent, "+25.00%"; "n/a" when nothing was recorded. */
export function driftPercent(percent: string | null | undefined): string {
  if (percent == null) return "n/a";
  const value = new D(percent);
  return `${value.greaterThan(0) ? "+" : ""}${value.toFixed(2)}%`;
}

/** The UTC day `days` before today, YYYY-MM-DD (providers count usage by UTC day). */
export function utcDay(now: Date, days: number): string {
  const moved = new Date(now.getTime() - days * 86_400_000);
  return moved.toISOString().slice(0, 10);
}
