// A budget at a glance: a bar (spent, then held) coloured by how close it is to the limit, and
// its figures. The portal passes `showDetails={false}`: limit, spent, remaining and used % only.
import { Badge, Group, Progress, SimpleGrid, Stack, Text } from "@mantine/core";
import { graphql } from "../gql";
import { barValue, formatUsedPercent, gaugeLevel, LEVEL_COLOR } from "./budgets";
import { formatMoney, periodLabel } from "./format";

// Staff see every field; the portal asks for its own subset (PortalApp.tsx).
export const BudgetGaugeFields = graphql(`
  fragment BudgetGaugeFields on Budget {
    limit { amount currency }
    spent { amount }
    reserved { amount }
    remaining { amount }
    usedPercent
    mode
    basis
    basisIsDefault
    thresholds
    period
  }
`);

export interface BudgetFigures {
  limit: { amount: string; currency: string };
  spent: { amount: string };
  reserved?: { amount: string } | null;
  remaining: { amount: string };
  usedPercent?: string | null;
  mode: string;
  basis: string;
  thresholds: readonly number[];
  period: string;
}

const LEVEL_WORDS = { ok: "within budget", near: "near the limit", over: "limit reached" } as const;

export function BudgetGauge({ budget, showDetails = true, testId = "budget" }: { budget: BudgetFigures; showDetails?: boolean; testId?: string }) {
  const currency = budget.limit.currency;
  const reserved = budget.reserved?.amount ?? "0";
  const level = gaugeLevel({ limit: budget.limit.amount, spent: budget.spent.amount, reserved, thresholds: budget.thresholds });
  const color = LEVEL_COLOR[level];
  const spentPart = barValue(budget.limit.amount, budget.spent.amount);
  const heldPart = Math.max(0, Math.min(100 - spentPart, barValue(budget.limit.amount, reserved)));
  const money = (amount: string) => formatMoney(amount, currency);
  return (
    <Stack gap="xs" data-testid={testId} data-level={level}>
      <Group justify="space-between">
        <Text fw={700} data-testid={`${testId}-used`} c={level === "ok" ? undefined : `${color}.7`}>
          {formatUsedPercent(budget.usedPercent)} used
        </Text>
        <Group gap={6}>
          <Badge color={color} variant="light">{LEVEL_WORDS[level]}</Badge>
          {showDetails && <Badge variant="outline" color="gray">{budget.mode.toLowerCase()}</Badge>}
        </Group>
      </Group>
      <Progress.Root size="lg" aria-label={`Budget used: ${formatUsedPercent(budget.usedPercent)}`}>
        <Progress.Section value={spentPart} color={color} />
        {showDetails && heldPart > 0 && <Progress.Section value={heldPart} color={`${color}.3`} />}
      </Progress.Root>
      <SimpleGrid cols={{ base: 2, sm: showDetails ? 4 : 3 }}>
        <Amount label="Limit" value={money(budget.limit.amount)} testId={`${testId}-limit`} />
        <Amount label="Spent" value={money(budget.spent.amount)} testId={`${testId}-spent`} />
        {showDetails && <Amount label="Reserved" value={money(reserved)} testId={`${testId}-reserved`} />}
        <Amount label="Remaining" value={money(budget.remaining.amount)} testId={`${testId}-remaining`} />
      </SimpleGrid>
      <Text size="xs" c="dimmed">
        {periodLabel(budget.period)}
        {showDetails &&
          `; ${budget.mode === "HARD" ? "hard: calls that could pass the limit are refused" : "soft: calls pass, alerts fire"}; measured on ${
            budget.basis === "COST" ? "provider cost" : "the client's charge"
          }; alerts at ${budget.thresholds.map((t) => `${t}%`).join(", ") || "no threshold"}`}
        .
      </Text>
    </Stack>
  );
}

function Amount({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>{label}</Text>
      <Text fw={600} data-testid={testId}>{value}</Text>
    </div>
  );
}
