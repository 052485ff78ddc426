// Reconciliation: what Bizgraph recorded against what each provider reports it billed, per
// UTC day and model (docs/reconciliation.md). Drift above the threshold and spend that never
// went through Bizgraph are highlighted; calls billed on an estimate show the provider's hour, and
// are listed below the table to settle at the provider's figures.
import { Badge, Group, Paper, Select, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";
import type { ReconciliationPageQuery } from "../gql/graphql";
import {
  driftPercent,
  exactAmount,
  pair,
  rowState,
  STATE_COLORS,
  STATE_LABELS,
  utcDay,
} from "../shared/reconciliation";
import { formatDateTime } from "../shared/format";
import { settledNote } from "../shared/settlements";
import { Empty, ErrorState, Loading } from "../shared/states";
import { EstimatedCalls } from "./EstimatedCalls";
import { useSession } from "./session";

const ReconciliationQuery = graphql(`
  query ReconciliationPage($from: String!, $to: String!, $providers: [String!]) {
    reconciliation(from: $from, to: $to, providers: $providers) {
      driftPercentThreshold
      reconciledThrough { provider day }
      rows {
        day provider model currency costDrift driftPercent drifting notThroughBizgraph settledRequests
        recorded { requests cost tokens { input cachedInput cacheWrite output } }
        reported { requests cost tokens { input cachedInput cacheWrite output } }
        estimated {
          hour estimatedRequests estimatedCost
          recorded { requests tokens { input output } }
          reported { requests tokens { input output } }
        }
      }
    }
  }
`);

type Row = ReconciliationPageQuery["reconciliation"]["rows"][number];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function ReconciliationPage() {
  const session = useSession();
  const now = new Date();
  const [from, setFrom] = useState(utcDay(now, 7));
  const [to, setTo] = useState(utcDay(now, 1));
  const [provider, setProvider] = useState<string | null>(null);
  const [onlyProblems, setOnlyProblems] = useState(false);
  const valid = DATE.test(from) && DATE.test(to) && from <= to;
  const [{ data, fetching, error }, reload] = useQuery({
    query: ReconciliationQuery,
    variables: { from, to, providers: provider ? [provider] : null },
    pause: !valid,
  });
  const table = data?.reconciliation;
  const providers = [...new Set([...(table?.rows ?? []).map((r) => r.provider), ...(provider ? [provider] : [])])];
  const rows = (table?.rows ?? []).filter((r) => !onlyProblems || r.drifting || r.notThroughBizgraph);

  return (
    <Stack>
      <Title order={2}>Reconciliation</Title>
      <Text size="sm" c="dimmed" maw={760}>
        Requests, tokens and provider cost as Bizgraph recorded them against what each provider reports, per UTC day
        and model. A day drifting more than {table ? `${table.driftPercentThreshold}%` : "the threshold"} raises an
        alert. Figures read "recorded / reported" where they differ; "?" means the provider does not report it.
      </Text>
      <Group align="end" data-testid="reconciliation-filters">
        <TextInput label="From (UTC day)" type="date" value={from} onChange={(e) => setFrom(e.currentTarget.value)}
          error={DATE.test(from) ? undefined : "YYYY-MM-DD"} />
        <TextInput label="To (included)" type="date" value={to} onChange={(e) => setTo(e.currentTarget.value)}
          error={!DATE.test(to) ? "YYYY-MM-DD" : from > to ? "before From" : undefined} />
        <Select label="Provider" placeholder="All" clearable data={providers} value={provider} onChange={setProvider} />
        <Switch label="Drift and outside spend only" checked={onlyProblems}
          onChange={(e) => setOnlyProblems(e.currentTarget.checked)} />
      </Group>
      {table && (
        <Group gap="xs" data-testid="reconciled-through">
          {table.reconciledThrough.length === 0 ? (
            <Text size="sm" c="dimmed">Not reconciled yet: set OPENAI_ADMIN_KEY or ANTHROPIC_ADMIN_KEY, or import a report.</Text>
          ) : (
            table.reconciledThrough.map((m) => (
              <Badge key={m.provider} variant="light">{m.provider}: reconciled through {m.day}</Badge>
            ))
          )}
        </Group>
      )}
      {fetching && !data && <Loading what="the reconciliation" />}
      {error && !data && <ErrorState error={error} retry={() => reload({ requestPolicy: "network-only" })} />}
      {table && rows.length === 0 && (
        <Empty title={onlyProblems ? "Nothing drifts" : "Nothing to compare"}>
          <Text c="dimmed" maw={520}>
            {onlyProblems
              ? "Every day and model agrees within the threshold."
              : "No usage recorded and no provider report for these days."}
          </Text>
        </Empty>
      )}
      {rows.length > 0 && (
        <Paper withBorder p="md">
          <Table.ScrollContainer minWidth={1000}>
            <Table data-testid="reconciliation" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Day</Table.Th>
                  <Table.Th>Provider</Table.Th>
                  <Table.Th>Model</Table.Th>
                  <Table.Th>Requests</Table.Th>
                  <Table.Th>Input</Table.Th>
                  <Table.Th>Cached</Table.Th>
                  <Table.Th>Output</Table.Th>
                  <Table.Th>Recorded cost</Table.Th>
                  <Table.Th>Reported cost</Table.Th>
                  <Table.Th>Drift</Table.Th>
                  <Table.Th>State</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((row) => (
                  <ReconciliationLine key={`${row.day} ${row.provider} ${row.model} ${row.currency}`} row={row}
                    zone={session.timeZone} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
      {valid && (
        <EstimatedCalls from={from} to={to} providers={provider ? [provider] : null}
          onSettled={() => reload({ requestPolicy: "network-only" })} />
      )}
    </Stack>
  );
}

function ReconciliationLine({ row, zone }: { row: Row; zone: string }) {
  const state = rowState(row);
  const settled = settledNote(row.settledRequests);
  const mine = row.recorded.tokens;
  const theirs = row.reported.tokens;
  const tint = state === "drift" ? "var(--mantine-color-red-light)" : state === "outside" ? "var(--mantine-color-orange-light)" : undefined;
  return (
    <>
      <Table.Tr data-testid={`reconciliation-row-${row.day}-${row.model}`} data-state={state} style={{ background: tint }}>
        <Table.Td style={{ whiteSpace: "nowrap" }}>{row.day}</Table.Td>
        <Table.Td>{row.provider}</Table.Td>
        <Table.Td>{row.model}</Table.Td>
        <Table.Td>{pair(row.recorded.requests, row.reported.requests)}</Table.Td>
        <Table.Td>{pair(mine?.input, theirs?.input)}</Table.Td>
        <Table.Td>{pair(mine?.cachedInput, theirs?.cachedInput)}</Table.Td>
        <Table.Td>{pair(mine?.output, theirs?.output)}</Table.Td>
        <Table.Td>{exactAmount(row.recorded.cost, row.currency)}</Table.Td>
        <Table.Td>{exactAmount(row.reported.cost, row.currency)}</Table.Td>
        <Table.Td style={{ whiteSpace: "nowrap" }}>
          {exactAmount(row.costDrift, row.currency)} ({driftPercent(row.driftPercent)})
        </Table.Td>
        <Table.Td>
          <Badge variant="light" color={STATE_COLORS[state]} style={{ minWidth: "max-content" }}>
            {STATE_LABELS[state]}
          </Badge>
          {settled && <Text size="xs" c="dimmed" mt={2} style={{ whiteSpace: "nowrap" }}>{settled}</Text>}
        </Table.Td>
      </Table.Tr>
      {row.estimated.map((hour) => (
        <Table.Tr key={hour.hour}>
          <Table.Td colSpan={11}>
            <Text size="xs" c="dimmed">
              {hour.estimatedRequests} calls billed on an estimate ({exactAmount(hour.estimatedCost, row.currency)}) in the
              hour from {formatDateTime(hour.hour, zone)}: Bizgraph recorded {hour.recorded.requests} requests,{" "}
              {hour.recorded.tokens?.input ?? 0} in / {hour.recorded.tokens?.output ?? 0} out; the provider{" "}
              {hour.reported
                ? `saw ${hour.reported.requests ?? "?"} requests, ${hour.reported.tokens?.input ?? "?"} in / ${hour.reported.tokens?.output ?? "?"} out`
                : "has not reported that hour"}
              . Settle them below, at the provider's figures.
            </Text>
          </Table.Td>
        </Table.Tr>
      ))}
    </>
  );
}

/** The overview's "reconciled through" line: nothing for a token that may not read costs. */
const ReconciledThroughQuery = graphql(`
  query ReconciledThrough {
    reconciledThrough { provider day }
  }
`);

export function ReconciledThrough() {
  const [{ data }] = useQuery({ query: ReconciledThroughQuery });
  if (!data) return null;
  const marks = data.reconciledThrough;
  return (
    <Text size="sm" c="dimmed" data-testid="overview-reconciled-through">
      {marks.length === 0
        ? "Provider bills: not reconciled yet"
        : `Provider bills reconciled through ${marks.map((m) => `${m.day} (${m.provider})`).join(", ")}`}
    </Text>
  );
}
