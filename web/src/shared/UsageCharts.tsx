// A client's month as charts: daily spend and usage by model (Mantine charts over Recharts).
// Amounts become numbers only to be drawn; labels are formatted from the decimal strings.
import { AreaChart, BarChart } from "@mantine/charts";
import { Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { chartNumber, formatDay, formatInteger, formatMoney } from "./format";

interface Amount {
  amount: string;
}
export interface SeriesPoint {
  start: string;
  requests: number;
  charge: Amount;
  cost?: Amount | null;
}
export interface ModelRow {
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  charge: Amount;
  cost?: Amount | null;
}

interface Props {
  series: readonly SeriesPoint[];
  byModel: readonly ModelRow[];
  currency: string;
  zone: string;
  showCost: boolean;
}

export function UsageCharts({ series, byModel, currency, zone, showCost }: Props) {
  const money = (value: number) => formatMoney(String(value), currency);
  const daily = series.map((p) => ({
    day: formatDay(p.start, zone),
    charge: chartNumber(p.charge.amount),
    ...(showCost && p.cost ? { cost: chartNumber(p.cost.amount) } : {}),
  }));
  const models = byModel.map((m) => ({
    model: m.model,
    charge: chartNumber(m.charge.amount),
    ...(showCost && m.cost ? { cost: chartNumber(m.cost.amount) } : {}),
  }));
  const chargeLabel = showCost ? "Charged to the client" : "Charges";
  const seriesDef = [
    { name: "charge", label: chargeLabel, color: "indigo.6" },
    ...(showCost ? [{ name: "cost", label: "Provider cost", color: "orange.6" }] : []),
  ];

  if (series.length === 0) {
    return (
      <Paper withBorder p="lg">
        <Text c="dimmed">
          No usage this month yet. Calls made with this client's API keys show up here as they happen.
        </Text>
      </Paper>
    );
  }

  return (
    <Stack>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="md">
          <Title order={4} mb="sm">
            Usage over time
          </Title>
          <AreaChart h={240} data={daily} dataKey="day" series={seriesDef} valueFormatter={money} withLegend />
        </Paper>
        <Paper withBorder p="md">
          <Title order={4} mb="sm">
            Usage by model
          </Title>
          <BarChart h={240} data={models} dataKey="model" series={seriesDef} valueFormatter={money} withLegend />
        </Paper>
      </SimpleGrid>
      <Table.ScrollContainer minWidth={560}>
        <Table striped data-testid="by-model">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Model</Table.Th>
              <Table.Th ta="right">Requests</Table.Th>
              <Table.Th ta="right">Input tokens</Table.Th>
              <Table.Th ta="right">Output tokens</Table.Th>
              <Table.Th ta="right">{chargeLabel}</Table.Th>
              {showCost && <Table.Th ta="right">Provider cost</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {byModel.map((m) => (
              <Table.Tr key={m.model}>
                <Table.Td>{m.model}</Table.Td>
                <Table.Td ta="right">{formatInteger(m.requests)}</Table.Td>
                <Table.Td ta="right">{formatInteger(m.inputTokens)}</Table.Td>
                <Table.Td ta="right">{formatInteger(m.outputTokens)}</Table.Td>
                <Table.Td ta="right">{formatMoney(m.charge.amount, currency)}</Table.Td>
                {showCost && <Table.Td ta="right">{m.cost ? formatMoney(m.cost.amount, currency) : ""}</Table.Td>}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}
