// One client: figures for a month, usage charts, plan and its history, keys, portal access.
import { Anchor, Badge, Button, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import { Figure } from "../shared/Figure";
import { formatDateTime, formatInteger, formatMoney, formatRatio, isNegative, periodOf } from "../shared/format";
import { PeriodPicker } from "../shared/PeriodPicker";
import { describePlan } from "../shared/plans";
import { Empty, ErrorState, Loading, MutationError } from "../shared/states";
import { UsageCharts } from "../shared/UsageCharts";
import { AliasUsage } from "../shared/AliasUsage";
import { ClientAlerts } from "./AlertsPage";
import { BudgetPanel } from "./BudgetPanel";
import { ByokPanel } from "./ByokPanel";
import { ByokUsage } from "../shared/ByokUsage";
import { CreditsPanel } from "./CreditsPanel";
import { ClientCurrency } from "./ExchangeRatesPanel";
import { TaxPanel } from "./TaxPanel";
import { WalletPanel } from "../shared/WalletPanel";
import { ClientInvoices } from "./InvoicesPage";
import { KeysPanel, PortalAccess } from "./KeysPanel";
import { canWrite, useSession } from "./session";

const ClientQuery = graphql(`
  query ClientPage($id: ID!, $period: String!) {
    client(id: $id) {
      id
      name
      status
      currency
      billingEmail
      taxRate
      createdAt
      pricing {
        __typename
        ... on PercentageMargin { percent }
        ... on FixedFee { monthlyFee { amount currency } }
        ... on FixedPrice { monthlyPrice { amount currency } }
      }
      pricingHistory {
        id
        effectiveFrom
        createdAt
        pricing {
          __typename
          ... on PercentageMargin { percent }
          ... on FixedFee { monthlyFee { amount currency } }
          ... on FixedPrice { monthlyPrice { amount currency } }
        }
      }
      apiKeys { id name prefix createdAt expiresAt revokedAt allowedModels rpmLimit tpmLimit budget { ...BudgetGaugeFields } }
      budget { ...BudgetGaugeFields }
      portalTokens { id name prefix createdAt revokedAt }
      alerts(first: 20) { id kind clientId message details { name value } createdAt acknowledgedAt acknowledgedBy }
      usage(period: $period) {
        requests
        inputTokens
        outputTokens
        charge { amount currency }
        fixedCharges { amount currency }
        revenue { amount currency }
        cost { amount currency }
        profit { amount currency }
        margin
        byModel { model requests inputTokens outputTokens charge { amount } cost { amount } }
        series(bucket: DAY) { start requests charge { amount } cost { amount } }
      }
    }
    invoices(clientId: $id) { ...InvoiceRowFields }
    credits(clientId: $id) { ...AccountCreditFields }
    draftInvoice(clientId: $id, period: $period) {
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

const SuspendMutation = graphql(`
  mutation SuspendClient($id: ID!) {
    suspendClient(id: $id) {
      __typename
      ... on ClientSuccess { client { id status } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const ResumeMutation = graphql(`
  mutation ResumeClient($id: ID!) {
    resumeClient(id: $id) {
      __typename
      ... on ClientSuccess { client { id status } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

export function ClientPage() {
  const { id = "" } = useParams();
  const session = useSession();
  const current = periodOf(new Date(), session.timeZone);
  const [period, setPeriod] = useState(current);
  const [{ data, fetching, error }, reload] = useQuery({ query: ClientQuery, variables: { id, period } });
  const [suspendState, suspend] = useMutation(SuspendMutation);
  const [resumeState, resume] = useMutation(ResumeMutation);
  const [statusError, setStatusError] = useState<string | null>(null);
  const refresh = () => reload({ requestPolicy: "network-only" });

  if (fetching && !data) return <Loading what="the client" />;
  if (error && !data) return <ErrorState error={error} retry={refresh} />;
  const client = data?.client;
  if (!client) {
    return (
      <Empty title="No such client">
        <Text>
          It may have been typed wrong. Go back to the <Anchor component={Link} to="/">overview</Anchor>.
        </Text>
      </Empty>
    );
  }
  const usage = client.usage;
  const currency = client.currency;
  const loss = isNegative(usage.profit?.amount);
  const writable = canWrite(session);

  async function toggleStatus() {
    setStatusError(null);
    const result = client!.status === "ACTIVE" ? await suspend({ id }) : await resume({ id });
    const answer = result.data && ("suspendClient" in result.data ? result.data.suspendClient : result.data.resumeClient);
    if (result.error) setStatusError(result.error.message);
    else if (answer && answer.__typename !== "ClientSuccess") setStatusError(answer.message);
    else refresh();
  }

  return (
    <Stack>
      <Group justify="space-between">
        <Group gap="sm">
          <Title order={2} data-testid="client-name">{client.name}</Title>
          <Badge color={client.status === "ACTIVE" ? "green" : "gray"}>{client.status.toLowerCase()}</Badge>
        </Group>
        <Group>
          <PeriodPicker period={period} current={current} onChange={setPeriod} />
          {writable && (
            <>
              <Button variant="default" component={Link} to={`/clients/${client.id}/edit`}>
                Edit client and plan
              </Button>
              <Button
                variant="light"
                color={client.status === "ACTIVE" ? "red" : "green"}
                loading={suspendState.fetching || resumeState.fetching}
                onClick={toggleStatus}
              >
                {client.status === "ACTIVE" ? "Suspend" : "Resume"}
              </Button>
            </>
          )}
        </Group>
      </Group>
      <MutationError message={statusError} />
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <Figure label="Revenue" value={formatMoney(usage.revenue.amount, currency)} testId="client-revenue"
          note={`usage ${formatMoney(usage.charge.amount, currency)} + fixed ${formatMoney(usage.fixedCharges.amount, currency)}`} />
        <Figure label="Provider cost" value={usage.cost ? formatMoney(usage.cost.amount, currency) : ""} testId="client-cost"
          note={`${formatInteger(usage.requests)} requests`} />
        <Figure label="Profit" value={usage.profit ? formatMoney(usage.profit.amount, currency) : ""} testId="client-profit"
          tone={loss ? "loss" : undefined} note={loss ? "a loss: cost exceeds revenue" : undefined} />
        <Figure label="Margin" value={formatRatio(usage.margin)} testId="client-margin" tone={loss ? "loss" : undefined}
          note={`${formatInteger(usage.inputTokens)} in / ${formatInteger(usage.outputTokens)} out tokens`} />
      </SimpleGrid>
      <BudgetPanel clientId={client.id} currency={currency} budget={client.budget} writable={writable} onChange={refresh} />
      <WalletPanel clientId={client.id} zone={session.timeZone} writable={writable} />
      <UsageCharts series={usage.series} byModel={usage.byModel} currency={currency} zone={session.timeZone} showCost />
      <AliasUsage clientId={client.id} period={period} currency={currency} />
      <ByokUsage clientId={client.id} period={period} />
      <ByokPanel clientId={client.id} />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="md">
          <Title order={4}>Plan</Title>
          <Text data-testid="client-plan">{describePlan(client.pricing)}</Text>
          <Text size="sm" c="dimmed">
            Billed in {currency}; tax rate {client.taxRate}%; {client.billingEmail ?? "no billing email"}; client since{" "}
            {formatDateTime(client.createdAt, session.timeZone)}.
          </Text>
          <Table mt="sm" data-testid="plan-history">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>In force from</Table.Th>
                <Table.Th>Plan</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {[...client.pricingHistory].reverse().map((version) => (
                <Table.Tr key={version.id}>
                  <Table.Td>{formatDateTime(version.effectiveFrom, session.timeZone)}</Table.Td>
                  <Table.Td>{describePlan(version.pricing)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
        <PortalAccess clientId={client.id} tokens={client.portalTokens} writable={writable}
          zone={session.timeZone} onChange={refresh} />
      </SimpleGrid>
      <KeysPanel clientId={client.id} currency={currency} keys={client.apiKeys} writable={writable} zone={session.timeZone} onChange={refresh} />
      <ClientAlerts alerts={client.alerts} zone={session.timeZone} writable={writable} onChange={refresh} />
      <ClientInvoices invoices={data.invoices} draft={data.draftInvoice} period={period} zone={session.timeZone} />
      <CreditsPanel clientId={client.id} currency={currency} credits={data.credits} writable={writable}
        zone={session.timeZone} onChange={refresh} />
      <TaxPanel clientId={client.id} writable={writable} />
      <ClientCurrency clientId={client.id} currency={client.currency} writable={writable} onChange={refresh} />
    </Stack>
  );
}
