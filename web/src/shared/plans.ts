// A pricing plan (the GraphQL union) in words.
import { formatMoney, formatPercent } from "./format";

interface Amount {
  amount: string;
  currency: string;
}
export type PlanView =
  | { __typename?: "PercentageMargin"; percent: string }
  | { __typename?: "FixedFee"; monthlyFee: Amount }
  | { __typename?: "FixedPrice"; monthlyPrice: Amount };

export function describePlan(plan: PlanView | null | undefined): string {
  if (!plan) return "no plan";
  if ("percent" in plan) return `Provider cost + ${formatPercent(plan.percent)} margin`;
  if ("monthlyFee" in plan)
    return `Provider cost + ${formatMoney(plan.monthlyFee.amount, plan.monthlyFee.currency)} a month`;
  return `Fixed price: ${formatMoney(plan.monthlyPrice.amount, plan.monthlyPrice.currency)} a month`;
}

/** The plan as the client portal words it: the fixed part only, never the agency's margin. */
export function describePlanForClient(plan: PlanView | null | undefined): string {
  if (!plan || "percent" in plan) return "usage-based, no fixed charge";
  if ("monthlyFee" in plan)
    return `usage + ${formatMoney(plan.monthlyFee.amount, plan.monthlyFee.currency)} a month`;
  return `${formatMoney(plan.monthlyPrice.amount, plan.monthlyPrice.currency)} a month, usage included`;
}
