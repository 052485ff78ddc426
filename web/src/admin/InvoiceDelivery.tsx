// Invoice email on the invoice page: send / resend (owners and admins; disabled with the reason
// when SMTP is not configured) and the delivery history; the overdue invoices on the invoices page.
import { Alert, Anchor, Badge, Button, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import { deliveryKindText, deliveryStatusColor, deliveryStatusText, sendRule } from "../shared/delivery";
import { formatDateTime, formatMoney } from "../shared/format";
import { MutationError } from "../shared/states";

const DeliveriesQuery = graphql(`
  query InvoiceDeliveries($id: ID!) {
    invoiceEmail { enabled reason autoSend }
    invoiceDeliveries(invoiceId: $id) {
      id kind status recipient attempts lastError createdAt nextAttemptAt sentAt daysOverdue requestedBy
    }
  }
`);

const SendInvoice = graphql(`
  mutation SendInvoice($id: ID!) {
    sendInvoice(id: $id) {
      __typename
      ... on SendInvoiceSuccess { delivery { id status } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
      ... on ConflictError { message code }
    }
  }
`);

const ResendInvoice = graphql(`
  mutation ResendInvoice($id: ID!) {
    resendInvoice(id: $id) {
      __typename
      ... on SendInvoiceSuccess { delivery { id status } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
      ... on ConflictError { message code }
    }
  }
`);

const OverdueQuery = graphql(`
  query OverdueInvoices {
    overdueInvoices { daysOverdue invoice { id number clientId currency dueAt total { amount } } }
    clients { id name }
  }
`);

export function InvoiceDeliveryPanel({ invoice, canSend, zone }: {
  invoice: { id: string; number: string; status: string };
  canSend: boolean;
  zone: string;
}) {
  const [{ data, error }, reload] = useQuery({ query: DeliveriesQuery, variables: { id: invoice.id } });
  const refresh = () => reload({ requestPolicy: "network-only" });
  const [sendState, send] = useMutation(SendInvoice);
  const [resendState, resend] = useMutation(ResendInvoice);
  const [problem, setProblem] = useState<string | null>(null);
  if (error && !data) return <Text c="dimmed">The delivery history could not be loaded.</Text>;
  if (!data) return null;
  const deliveries = data.invoiceDeliveries;
  const sentBefore = deliveries.some((d) => d.kind === "INVOICE" && d.status !== "NO_BILLING_EMAIL");
  const rule = sendRule(data.invoiceEmail, invoice.status, sentBefore);

  async function go() {
    setProblem(null);
    const result = rule.resend ? await resend({ id: invoice.id }) : await send({ id: invoice.id });
    const answer = rule.resend
      ? (result.data as { resendInvoice?: { __typename: string; message?: string } } | undefined)?.resendInvoice
      : (result.data as { sendInvoice?: { __typename: string; message?: string } } | undefined)?.sendInvoice;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "SendInvoiceSuccess") setProblem(answer.message ?? "Refused.");
    refresh();
  }

  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={4}>Email</Title>
          {canSend && (
            <Button onClick={go} disabled={!rule.allowed} loading={sendState.fetching || resendState.fetching}
              title={rule.why ?? undefined} data-testid="send-invoice">
              {rule.resend ? "Resend invoice" : "Send invoice"}
            </Button>
          )}
        </Group>
        {!data.invoiceEmail.enabled && (
          <Text size="sm" c="dimmed" data-testid="email-disabled">{data.invoiceEmail.reason}</Text>
        )}
        {data.invoiceEmail.enabled && data.invoiceEmail.autoSend && (
          <Text size="sm" c="dimmed">Finalized invoices are emailed to the client's billing email by themselves.</Text>
        )}
        {deliveries.length === 0 ? (
          <Text c="dimmed">Not emailed yet.</Text>
        ) : (
          <Table data-testid="invoice-deliveries">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th><Table.Th>What</Table.Th><Table.Th>To</Table.Th><Table.Th>Outcome</Table.Th><Table.Th>Attempts</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {deliveries.map((d) => (
                <Table.Tr key={d.id}>
                  <Table.Td>{formatDateTime(d.sentAt ?? d.createdAt, zone)}</Table.Td>
                  <Table.Td>{deliveryKindText(d.kind, d.daysOverdue)}{d.requestedBy ? `, by ${d.requestedBy}` : ""}</Table.Td>
                  <Table.Td>{d.recipient ?? "(no billing email)"}</Table.Td>
                  <Table.Td>
                    <Badge color={deliveryStatusColor(d.status)} variant="light">{deliveryStatusText(d.status)}</Badge>
                    {d.lastError && <Text size="xs" c="dimmed">{d.lastError}</Text>}
                    {d.nextAttemptAt && <Text size="xs" c="dimmed">next try {formatDateTime(d.nextAttemptAt, zone)}</Text>}
                  </Table.Td>
                  <Table.Td>{d.attempts}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <MutationError message={problem} />
      </Stack>
    </Paper>
  );
}

export function OverdueInvoices({ zone }: { zone: string }) {
  const [{ data }] = useQuery({ query: OverdueQuery });
  if (!data || data.overdueInvoices.length === 0) return null;
  const names = new Map(data.clients.map((c) => [c.id, c.name]));
  return (
    <Alert color="red" title={`Overdue invoices (${data.overdueInvoices.length})`} data-testid="overdue-invoices">
      <Table>
        <Table.Tbody>
          {data.overdueInvoices.map(({ invoice, daysOverdue }) => (
            <Table.Tr key={invoice.id}>
              <Table.Td ff="monospace"><Anchor component={Link} to={`/invoices/${invoice.id}`}>{invoice.number}</Anchor></Table.Td>
              <Table.Td>{names.get(invoice.clientId) ?? invoice.clientId}</Table.Td>
              <Table.Td ta="right">{formatMoney(invoice.total.amount, invoice.currency)}</Table.Td>
              <Table.Td>due {formatDateTime(invoice.dueAt, zone)}</Table.Td>
              <Table.Td fw={600}>{daysOverdue} days overdue</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Alert>
  );
}
