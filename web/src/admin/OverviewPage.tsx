// The month at a glance: revenue, cost, profit and margin; spend per day; every client's figures;
// the clients without figures for want of an exchange rate, each naming the rate it needs.
import { AreaChart } from "@mantine/charts";
import { Alert, Anchor, Badge, Button, Group, Paper, SimpleGrid, Stack, Table, Text, Title, UnstyledButton } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router-dom";
import { useQuery, type UseQueryState } from "urql";
import { graphql } from "../gql";
import type { OverviewPageQuery, OverviewSpendQuery } from "../gql/graphql";
import { Figure } from "../shared/Figure";
import {
  chartNumber,
  compareDecimals,
  formatDay,
  formatInteger,
  formatMoney,
  formatRatio,
  isNegative,
  periodOf,
} from "../shared/format";
import { formatUsedPercent, gaugeLevel, LEVEL_COLOR } from "../shared/budgets";
import { totalsNote, totalsState, unpricedNotice } from "../shared/overview";
import { PeriodPicker } from "../shared/PeriodPicker";
import { ReportingTotals } from "./ExchangeRatesPanel";
import { ReconciledThrough } from "./ReconciliationPage";
import { Empty, ErrorState, Loading } from "../shared/states";
import { canWrite, useSession } from "./session";

// Two requests, sent together (no waterfall): the figures, and the spend chart, which scans the
// month's usage per hour (about 0.8 s at a million calls) and so must not hold up the table.
const OverviewQuery = graphql(`
  query OverviewPage($period: String!) {
    overview(period: $period) {
      period
      requests
      currency
      revenue { amount currency }
      cost { amount currency }
      profit { amount currency }
      margin
      rows {
        requests
        revenue { amount currency }
        cost { amount currency }
        profit { amount currency }
        margin
        client { id name status currency budget { limit { amount currency } spent { amount } reserved { amount } usedPercent thresholds } }
      }
      unpriced { client { id name } base quote day reason }
    }
  }
`);

const SpendQuery = graphql(`
  query OverviewSpend($period: String!) {
    overview(period: $period) {
      series(bucket: DAY) { start charge { amount } cost { amount } }
    }
  }
`);

type Row = OverviewPageQuery["overview"]["rows"][number];
type Unpriced = OverviewPageQuery["overview"]["unpriced"][number];
type SortKey = "name" | "cost" | "revenue" | "profit" | "margin" | "requests" | "budget";

const sorters: Record<SortKey, (a: Row, b: Row) => number> = {
  name: (a, b) => a.client.name.localeCompare(b.client.name),
  cost: (a, b) => compareDecimals(a.cost?.amount, b.cost?.amount),
  revenue: (a, b) => compareDecimals(a.revenue.amount, b.revenue.amount),
  profit: (a, b) => compareDecimals(a.profit?.amount, b.profit?.amount),
  margin: (a, b) => compareDecimals(a.margin, b.margin),
  requests: (a, b) => a.requests - b.requests,
  budget: (a, b) => compareDecimals(a.client.budget?.usedPercent, b.client.budget?.usedPercent),
};

export function OverviewPage() {
  const session = useSession();
  const current = periodOf(new Date(), session.timeZone);
  const [period, setPeriod] = useState(current);
  const [{ data, fetching, error }, reload] = useQuery({ query: OverviewQuery, variables: { period } });
  const [spend, reloadSpend] = useQuery({ query: SpendQuery, variables: { period } });
  const retrySpend = () => reloadSpend({ requestPolicy: "network-only" });

  return (
    <Stack>
      <Group justify="space-between">
        <Stack gap={0}>
          <Title order={2}>Overview</Title>
          <ReconciledThrough />
        </Stack>
        <Group>
          <PeriodPicker period={period} current={current} onChange={setPeriod} />
          {canWrite(session) && (
            <Button component={Link} to="/clients/new">
              New client
            </Button>
          )}
        </Group>
      </Group>
      {fetching && !data && <Loading what="the overview" />}
      {error && !data && <ErrorState error={error} retry={() => reload({ requestPolicy: "network-only" })} />}
      {data && (
        <OverviewBody data={data} zone={session.timeZone} writable={canWrite(session)} spend={spend} retrySpend={retrySpend} />
      )}
      {data && canWrite(session) && <ReportingTotals period={period} />}
    </Stack>
  );
}

type Spend = UseQueryState<OverviewSpendQuery, { period: string }>;

function OverviewBody({
  data,
  zone,
  writable,
  spend,
  retrySpend,
}: {
  data: OverviewPageQuery;
  zone: string;
  writable: boolean;
  spend: Spend;
  retrySpend: () => void;
}) {
  const overview = data.overview;
  if (overview.rows.length === 0 && overview.unpriced.length === 0) {
    return (
      <Empty title="No clients yet">
        <Text c="dimmed" maw={460}>
          A client is a customer you bill: it gets its own API keys and a pricing plan (a margin on provider
          cost, cost plus a monthly fee, or a fixed monthly price).
        </Text>
        {writable ? (
          <Button component={Link} to="/clients/new" size="md">
            Create your first client
          </Button>
        ) : (
          <Text>Ask an owner or admin to create one; your role is read-only.</Text>
        )}
      </Empty>
    );
  }
  const currency = overview.currency ?? null;
  const state = totalsState(overview);
  const loss = isNegative(overview.profit?.amount);
  return (
    <Stack>
      {currency === null || state !== "shown" ? (
        <Text c="dimmed" data-testid="totals-note">
          {totalsNote(state === "shown" ? "mixed" : state, overview.unpriced.length)}
        </Text>
      ) : (
        <SimpleGrid cols={{ base: 2, md: 4 }}>
          <Figure label="Revenue" value={formatMoney(overview.revenue!.amount, currency)} testId="total-revenue"
            note="draft invoices so far, before tax" />
          <Figure label="Provider cost" value={formatMoney(overview.cost!.amount, currency)} testId="total-cost"
            note={`${formatInteger(overview.requests)} requests`} />
          <Figure label="Profit" value={formatMoney(overview.profit!.amount, currency)} testId="total-profit"
            tone={loss ? "loss" : undefined} note={loss ? "a loss: cost exceeds revenue" : undefined} />
          <Figure label="Margin" value={formatRatio(overview.margin)} testId="total-margin"
            tone={loss ? "loss" : undefined} note="profit / revenue" />
        </SimpleGrid>
      )}
      <UnpricedClients unpriced={overview.unpriced} writable={writable} />
      {currency !== null && state === "shown" && (
        <SpendChart spend={spend} retry={retrySpend} currency={currency} zone={zone} />
      )}
      {overview.rows.length > 0 && <ClientTable rows={overview.rows} />}
    </Stack>
  );
}

/** Clients without figures this month: each names the exchange rate it lacks (never a 0). */
function UnpricedClients({ unpriced, writable }: { unpriced: readonly Unpriced[]; writable: boolean }) {
  if (unpriced.length === 0) return null;
  return (
    <Alert color="orange" title="Clients without figures: an exchange rate is missing" data-testid="unpriced-clients">
      <Stack gap={4}>
        {unpriced.map((u) => (
          <Text size="sm" key={u.client.id} data-testid={`unpriced-${u.client.id}`} title={u.reason}>
            {unpricedNotice(u, writable)}
          </Text>
        ))}
      </Stack>
    </Alert>
  );
}

function SpendChart({
  spend: { data, error },
  retry,
  currency,
  zone,
}: {
  spend: Spend;
  retry: () => void;
  currency: string;
  zone: string;
}) {
  if (error && !data) return <ErrorState error={error} retry={retry} />;
  if (!data) return <Loading what="spend over time" />;
  const points = (data.overview.series ?? []).map((point) => ({
    day: formatDay(point.start, zone),
    charge: chartNumber(point.charge.amount),
    cost: chartNumber(point.cost?.amount ?? "0"),
  }));
  return (
    <Paper withBorder p="md">
      <Title order={4} mb="sm">
        Spend over time
      </Title>
      {points.length === 0 ? (
        <Text c="dimmed">
          No calls this month yet. Issue an API key on a client's page and point an OpenAI SDK at this server's
          /v1 to see spend here.
        </Text>
      ) : (
        <AreaChart
          h={220}
          data={points}
          dataKey="day"
          withLegend
          valueFormatter={(v) => formatMoney(String(v), currency)}
          series={[
            { name: "charge", label: "Usage charged to clients", color: "indigo.6" },
            { name: "cost", label: "Provider cost", color: "orange.6" },
          ]}
        />
      )}
    </Paper>
  );
}

function ClientTable({ rows }: { rows: readonly Row[] }) {
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: "revenue", descending: true });
  const sorted = [...rows].sort((a, b) => {
    if (sort.key === "budget" && !a.client.budget !== !b.client.budget) {
      return a.client.budget ? -1 : 1; // clients without a budget last, either way
    }
    return (sort.descending ? -1 : 1) * sorters[sort.key](a, b);
  });
  const header = (key: SortKey, label: string, right = true) => {
    const active = sort.key === key;
    return (
      <Table.Th ta={right ? "right" : "left"} aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}>
        <UnstyledButton
          onClick={() => setSort({ key, descending: active ? !sort.descending : key !== "name" })}
          fw={700}
          fz="sm"
        >
          {label} {active ? (sort.descending ? "▼" : "▲") : ""}
        </UnstyledButton>
      </Table.Th>
    );
  };
  return (
    <Table.ScrollContainer minWidth={820}>
      <Table highlightOnHover data-testid="client-table">
        <Table.Thead>
          <Table.Tr>
            {header("name", "Client", false)}
            {header("cost", "Cost")}
            {header("revenue", "Revenue")}
            {header("profit", "Profit")}
            {header("margin", "Margin")}
            {header("requests", "Requests")}
            {header("budget", "Budget use")}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sorted.map((row) => {
            const currency = row.revenue.currency;
            const loss = isNegative(row.profit?.amount);
            return (
              <Table.Tr key={row.client.id} data-testid={`client-row-${row.client.id}`}>
                <Table.Td>
                  <Anchor component={Link} to={`/clients/${row.client.id}`}>
                    {row.client.name}
                  </Anchor>{" "}
                  {row.client.status === "SUSPENDED" && <Badge color="gray" size="xs">suspended</Badge>}
                </Table.Td>
                <Table.Td ta="right" data-col="cost">{row.cost ? formatMoney(row.cost.amount, currency) : ""}</Table.Td>
                <Table.Td ta="right" data-col="revenue">{formatMoney(row.revenue.amount, currency)}</Table.Td>
                <Table.Td ta="right" data-col="profit" c={loss ? "red.7" : undefined}>
                  {row.profit ? formatMoney(row.profit.amount, currency) : ""}
                  {loss && <Badge color="red" size="xs" ml={6}>loss</Badge>}
                </Table.Td>
                <Table.Td ta="right" data-col="margin" c={loss ? "red.7" : undefined}>{formatRatio(row.margin)}</Table.Td>
                <Table.Td ta="right" data-col="requests">{formatInteger(row.requests)}</Table.Td>
                <BudgetUseCell budget={row.client.budget} />
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** The current month's budget use (budgets are per current period whatever month is shown). */
function BudgetUseCell({ budget }: { budget: Row["client"]["budget"] }) {
  if (!budget) {
    return <Table.Td ta="right" data-col="budget" c="dimmed">no budget</Table.Td>;
  }
  const level = gaugeLevel({ limit: budget.limit.amount, spent: budget.spent.amount, reserved: budget.reserved.amount, thresholds: budget.thresholds });
  return (
    <Table.Td ta="right" data-col="budget" data-level={level} c={level === "ok" ? undefined : `${LEVEL_COLOR[level]}.7`}
      title={`of ${formatMoney(budget.limit.amount, budget.limit.currency)}`}>
      {formatUsedPercent(budget.usedPercent)}
      {level !== "ok" && <Badge color={LEVEL_COLOR[level]} size="xs" ml={6}>{level === "over" ? "limit" : "near"}</Badge>}
    </Table.Td>
  );
}
