// Budget figures for display: how close a budget is to its limit, decided with decimals (never
// floats), and the small parsers the budget and rate-limit forms share.
import { D } from "./format";

export type GaugeLevel = "ok" | "near" | "over";

/** Below 100%, the highest alert threshold the budget has (80 by default) starts the warning. */
export function warningPercent(thresholds: readonly number[]): number {
  const below = thresholds.filter((t) => t < 100);
  return below.length ? Math.max(...below) : 80;
}

/**
 * Where a budget stands: "over" once spent plus what is held reaches the limit (a hard budget
 * then refuses calls), "near" from the warning threshold on, "ok" below it.
 */
export function gaugeLevel(budget: {
  limit: string;
  spent: string;
  reserved: string;
  thresholds: readonly number[];
}): GaugeLevel {
  const limit = new D(budget.limit);
  const committed = new D(budget.spent).plus(budget.reserved);
  if (limit.isZero() || committed.greaterThanOrEqualTo(limit)) return "over";
  const percent = committed.dividedBy(limit).times(100);
  return percent.greaterThanOrEqualTo(warningPercent(budget.thresholds)) ? "near" : "ok";
}

export const LEVEL_COLOR: Record<GaugeLevel, string> = { ok: "teal", near: "orange", over: "red" };

/** The API's usedPercent ("12.3456") for display, one decimal, half-even; "n/a" when the API
 * gives none (a portal never gets a percentage of a budget on the agency's cost). */
export function formatUsedPercent(usedPercent: string | null | undefined): string {
  return usedPercent == null ? "n/a" : `${new D(usedPercent).toFixed(1)}%`;
}

/** For the progress bar only: the part of the limit spent or held, as a number in 0..100. */
export function barValue(limit: string, amount: string): number {
  const l = new D(limit);
  if (l.isZero()) return 100;
  const part = new D(amount).dividedBy(l).times(100);
  return D.min(D.max(part, 0), 100).toDecimalPlaces(2).toNumber();
}

/** A per-minute limit typed in a form: empty = no limit; else a whole number of at least 1. */
export function parseLimit(text: string, what: string): { value: number | null } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { value: null };
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1) return { error: `${what} must be a whole number of at least 1, or empty for no limit.` };
  return { value: Number(trimmed) };
}

/** Alert thresholds typed as "50, 80, 100"; the API checks their range and says so. */
export function parseThresholds(text: string): { value: number[] } | { error: string } {
  const parts = text.split(",").map((p) => p.trim()).filter(Boolean);
  if (parts.some((p) => !/^\d+$/.test(p))) return { error: "Thresholds are whole percents separated by commas, e.g. 50, 80, 100." };
  return { value: parts.map(Number) };
}

export function describeLimits(rpm: number | null | undefined, tpm: number | null | undefined): string {
  const parts = [rpm != null ? `${rpm} req/min` : null, tpm != null ? `${tpm} tokens/min` : null].filter(Boolean);
  return parts.length ? parts.join(", ") : "no limit";
}
