// Paying online through Stripe, in the portal: a "Pay" button per open invoice (the pay link is
// created when asked for, then the browser goes to Stripe Checkout) and a top-up form. Without
// Stripe configured the section says so and its buttons are disabled.
import { Alert, Button, Group, NumberInput, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useClient, useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { InvoiceRowFieldsFragment } from "../gql/graphql";
import { formatMoney } from "../shared/format";

const PaymentsEnabled = graphql(`
  query PortalPaymentsEnabled {
    paymentsEnabled
  }
`);

const InvoicePayLink = graphql(`
  query PortalInvoicePayLink($invoiceId: ID!) {
    invoicePayment(invoiceId: $invoiceId) {
      payUrl
      openBalance { amount currency }
    }
  }
`);

const StartTopUp = graphql(`
  mutation PortalStartTopUp($clientId: ID!, $amount: Decimal!, $currency: String!) {
    startTopUp(clientId: $clientId, amount: $amount, currency: $currency) {
      __typename
      ... on TopUpPage { url }
      ... on ValidationError { message }
      ... on NotFoundError { message }
      ... on NotAllowedError { message }
    }
  }
`);

/** Only Stripe's own pages are followed (the API gives nothing else, but a link is a link). */
function goTo(url: string): void {
  if (url.startsWith("https://")) window.location.assign(url);
}

export function PortalPayments({
  clientId,
  currency,
  invoices,
}: {
  clientId: string;
  currency: string;
  invoices: readonly InvoiceRowFieldsFragment[];
}) {
  const [{ data }] = useQuery({ query: PaymentsEnabled });
  const enabled = data?.paymentsEnabled ?? false;
  const open = invoices.filter((invoice) => invoice.status === "FINALIZED");
  return (
    <Paper withBorder p="md" data-testid="portal-payments">
      <Title order={4} mb="sm">Pay online</Title>
      {!enabled && <Text c="dimmed" mb="sm">Online payments are not set up by your provider.</Text>}
      <Stack>
        {open.length === 0 ? (
          <Text c="dimmed">No invoice is waiting for payment.</Text>
        ) : (
          <Table>
            <Table.Tbody>
              {open.map((invoice) => (
                <Table.Tr key={invoice.id}>
                  <Table.Td ff="monospace">{invoice.number}</Table.Td>
                  <Table.Td ta="right">{formatMoney(invoice.total.amount, invoice.currency)}</Table.Td>
                  <Table.Td>
                    <PayButton invoiceId={invoice.id} number={invoice.number} enabled={enabled} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <TopUp clientId={clientId} currency={currency} enabled={enabled} />
      </Stack>
    </Paper>
  );
}

function PayButton({ invoiceId, number, enabled }: { invoiceId: string; number: string; enabled: boolean }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const pay = async () => {
    setBusy(true);
    setProblem(null);
    const result = await client.query(InvoicePayLink, { invoiceId }, { requestPolicy: "network-only" }).toPromise();
    setBusy(false);
    const url = result.data?.invoicePayment?.payUrl;
    if (url) goTo(url);
    else setProblem(result.error?.message ?? "Nothing is left to pay on this invoice.");
  };
  return (
    <Group gap="xs">
      <Button size="xs" onClick={pay} loading={busy} disabled={!enabled} aria-label={`Pay invoice ${number}`}>
        Pay
      </Button>
      {problem && <Text size="sm" c="red">{problem}</Text>}
    </Group>
  );
}

function TopUp({ clientId, currency, enabled }: { clientId: string; currency: string; enabled: boolean }) {
  const [amount, setAmount] = useState<string | number>("");
  const [state, start] = useMutation(StartTopUp);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async () => {
    setProblem(null);
    const result = await start({ clientId, amount: String(amount), currency });
    const answer = result.data?.startTopUp;
    if (answer?.__typename === "TopUpPage") goTo(answer.url);
    else setProblem(answer && "message" in answer ? answer.message : (result.error?.message ?? "The top-up could not start."));
  };
  return (
    <Stack gap="xs">
      <Group align="end">
        <NumberInput
          label={`Top up your prepaid balance (${currency})`}
          value={amount}
          onChange={setAmount}
          min={0}
          decimalScale={3}
          disabled={!enabled}
          data-testid="top-up-amount"
        />
        <Button onClick={submit} loading={state.fetching} disabled={!enabled || amount === "" || Number(amount) <= 0}>
          Top up
        </Button>
      </Group>
      {problem && <Alert color="red">{problem}</Alert>}
    </Stack>
  );
}
