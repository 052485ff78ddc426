// The client portal: one client's month at its own price (usage, charges, plan, key prefixes).
// It never asks for provider cost, profit or other clients (the API would refuse anyway).
import { AppShell, Badge, Button, Container, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";
import type { PortalPageQuery } from "../gql/graphql";
import { isUnauthenticated, signOut } from "../shared/api";
import { Figure } from "../shared/Figure";
import { formatDateTime, formatInteger, formatMoney, periodOf } from "../shared/format";
import { PeriodPicker } from "../shared/PeriodPicker";
import { describePlanForClient } from "../shared/plans";
import { SignIn } from "../shared/SignIn";
import { ErrorState, Loading } from "../shared/states";
import { AlertsTable } from "../shared/AlertsTable";
import { AliasUsage } from "../shared/AliasUsage";
import { ByokUsage } from "../shared/ByokUsage";
import { UsageCharts } from "../shared/UsageCharts";
import { BudgetGauge } from "../shared/BudgetGauge";
import { DraftInvoice, InvoiceList } from "../shared/InvoiceParts";
import { OverdueNotice } from "../shared/OverdueNotice";
import { PortalBillingDetails } from "./PortalBillingDetails";
import { PortalPayments } from "./PortalPayments";
import { WalletPanel } from "../shared/WalletPanel";

// The budget's figures and the draft come in a second query, sent once the first names the
// client: the figures only for a budget measured on the client's charge (a budget on the
// provider's cost would reveal that cost, so the portal never asks for its figures, and the API
// gives a portal neither its amounts nor its used percentage).
const PortalBillingQuery = graphql(`
  query PortalBilling($clientId: ID!, $period: String!, $byCharge: Boolean!) {
    client(id: $clientId) {
      id
      budget @include(if: $byCharge) {
        limit { amount currency }
        spent { amount }
        remaining { amount }
        usedPercent
        mode
        basis
        thresholds
        period
      }
    }
    draftInvoice(clientId: $clientId, period: $period) {
      period
      currency
      lines { ...InvoiceLineFields }
      subtotal { amount }
      taxRate
      tax { amount }
      total { amount }
    }
  }
`);

const PortalQuery = graphql(`
  query PortalPage($period: String) {
    me { kind }
    timeZone
    invoices { ...InvoiceRowFields }
    clients {
      id
      name
      currency
      budget { basis mode }
      pricing {
        __typename
        ... on PercentageMargin { percent }
        ... on FixedFee { monthlyFee { amount currency } }
        ... on FixedPrice { monthlyPrice { amount currency } }
      }
      apiKeys { id name prefix createdAt expiresAt revokedAt }
      alerts(first: 20) { id kind clientId message details { name value } createdAt }
      usage(period: $period) {
        period
        requests
        inputTokens
        outputTokens
        charge { amount currency }
        fixedCharges { amount currency }
        revenue { amount currency }
        byModel { model requests inputTokens outputTokens charge { amount } }
        series(bucket: DAY) { start requests charge { amount } }
      }
    }
  }
`);

export function PortalApp() {
  const [period, setPeriod] = useState<string | null>(null);
  const [{ data, fetching, error }, reload] = useQuery({
    query: PortalQuery,
    variables: { period },
    requestPolicy: "network-only",
  });
  const again = () => reload({ requestPolicy: "network-only" });

  if (fetching && !data) return <Loading what="your usage" />;
  const signIn = (
    <SignIn
      app="portal"
      title="Client portal"
      help={<Text size="sm">Sign in with the portal token your provider sent you (it starts with bzp_).</Text>}
      onSignedIn={again}
    />
  );
  if (isUnauthenticated(error)) return signIn;
  if (error && !data) return <ErrorState error={error} retry={again} />;
  if (!data) return null;
  if (data.me.kind !== "PORTAL") return signIn; // a staff session belongs to the admin app
  const client = data.clients[0];
  if (!client) return <Text p="xl">This portal token no longer has a client. Ask your provider for a new one.</Text>;
  return (
    <PortalPage
      client={client}
      invoices={data.invoices}
      zone={data.timeZone}
      current={periodOf(new Date(), data.timeZone)}
      onPeriod={setPeriod}
    />
  );
}

type PortalClient = PortalPageQuery["clients"][number];

function PortalPage({
  client,
  invoices,
  zone,
  current,
  onPeriod,
}: {
  client: PortalClient;
  invoices: PortalPageQuery["invoices"];
  zone: string;
  current: string;
  onPeriod: (period: string) => void;
}) {
  const usage = client.usage;
  const currency = client.currency;
  return (
    <AppShell header={{ height: 56 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Title order={3} data-testid="portal-client">{client.name}</Title>
          <Button variant="default" size="xs" onClick={() => void signOut().then(() => window.location.assign("/portal"))}>
            Sign out
          </Button>
        </Group>
      </AppShell.Header>
      <AppShell.Main>
        <Container size="lg">
          <Stack>
            <Group justify="space-between">
              <Title order={2}>Your usage</Title>
              <PeriodPicker period={usage.period} current={current} onChange={onPeriod} />
            </Group>
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <Figure label="Charges so far" value={formatMoney(usage.revenue.amount, currency)} testId="portal-total"
                note="this month's draft, before tax" />
              <Figure label="Usage" value={formatMoney(usage.charge.amount, currency)} testId="portal-usage"
                note={`${formatInteger(usage.requests)} requests`} />
              <Figure label="Fixed charges" value={formatMoney(usage.fixedCharges.amount, currency)}
                note={describePlanForClient(client.pricing)} />
            </SimpleGrid>
            <UsageCharts series={usage.series} byModel={usage.byModel} currency={currency} zone={zone} showCost={false} />
            <AliasUsage clientId={client.id} period={usage.period} currency={currency} />
            <ByokUsage clientId={client.id} period={usage.period} />
            <Paper withBorder p="md">
              <Title order={4} mb="sm">API keys</Title>
              {client.apiKeys.length === 0 ? (
                <Text c="dimmed">No keys yet. Your provider issues them.</Text>
              ) : (
                <Table.ScrollContainer minWidth={480}>
                  <Table data-testid="portal-keys">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Key</Table.Th>
                        <Table.Th>Name</Table.Th>
                        <Table.Th>Created</Table.Th>
                        <Table.Th>Status</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {client.apiKeys.map((key) => (
                        <Table.Tr key={key.id}>
                          <Table.Td ff="monospace">{key.prefix}…</Table.Td>
                          <Table.Td>{key.name}</Table.Td>
                          <Table.Td>{formatDateTime(key.createdAt, zone)}</Table.Td>
                          <Table.Td>
                            {key.revokedAt ? <Badge color="gray">revoked</Badge> : <Badge color="green">active</Badge>}
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Paper>
            <Paper withBorder p="md">
              <Title order={4} mb="sm">Alerts</Title>
              {client.alerts.length === 0 ? (
                <Text c="dimmed">No alerts. You will see one here if your spending crosses a budget or rises unusually fast.</Text>
              ) : (
                <AlertsTable alerts={client.alerts} zone={zone} showAcknowledgement={false} testId="portal-alerts" />
              )}
            </Paper>
            <PortalBudgetAndDraft client={client} period={usage.period} invoices={invoices} />
            <WalletPanel clientId={client.id} zone={zone} writable={false} portal />
            <Paper withBorder p="md">
              <Title order={4} mb="sm">Invoices</Title>
              <OverdueNotice zone={zone} />
              {invoices.length === 0 ? (
                <Text c="dimmed">No invoices yet. Each month's invoice appears here once your provider closes the month.</Text>
              ) : (
                <InvoiceList invoices={invoices} zone={zone} testId="portal-invoices" />
              )}
            </Paper>
            <PortalBillingDetails clientId={client.id} />
            <PortalPayments invoices={invoices} />
          </Stack>
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}

function PortalBudgetAndDraft({
  client,
  period,
  invoices,
}: {
  client: PortalClient;
  period: string;
  invoices: PortalPageQuery["invoices"];
}) {
  const byCharge = client.budget?.basis === "CHARGE";
  const [{ data, error }, reload] = useQuery({
    query: PortalBillingQuery,
    variables: { clientId: client.id, period, byCharge },
    requestPolicy: "network-only",
  });
  const budget = data?.client?.budget;
  return (
    // Stacked: the draft's table needs the page's width (half of it cut columns off).
    <Stack>
      <Paper withBorder p="md">
        <Title order={4} mb="sm">Budget</Title>
        {!client.budget ? (
          <Text c="dimmed" data-testid="portal-no-budget">No spending budget is set for your account.</Text>
        ) : !byCharge ? (
          <Text data-testid="portal-budget-cost">
            Your provider keeps a monthly budget for your account on their own figures (not
            shown here)
            {client.budget.mode === "HARD" ? "; calls past it are refused" : ""}.
          </Text>
        ) : error && !data?.client ? (
          <ErrorState error={error} retry={() => reload({ requestPolicy: "network-only" })} />
        ) : budget ? (
          <BudgetGauge budget={budget} showDetails={false} testId="portal-budget" />
        ) : (
          <Loading what="your budget" />
        )}
      </Paper>
      <Paper withBorder p="md">
        <Title order={4} mb="sm">This month so far</Title>
        {data ? <DraftInvoice draft={data.draftInvoice} period={period} invoices={invoices} /> : error ? <Text c="dimmed">The draft could not be loaded.</Text> : <Loading what="the draft invoice" />}
      </Paper>
    </Stack>
  );
}
