// Paying online through Stripe, in the portal: a "Pay" button per open invoice (the pay link is
// created when asked for, then the browser goes to Stripe Checkout). Topping up a prepaid
// wallet is the wallet panel's button (shared/WalletPanel.tsx). Without Stripe configured the
// section says so and its buttons are disabled.
import { Button, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useClient, useQuery } from "urql";
import { graphql } from "../gql";
import type { InvoiceRowFieldsFragment } from "../gql/graphql";
import { formatMoney } from "../shared/format";
import { goTo } from "../shared/navigation";

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

export function PortalPayments({ invoices }: { invoices: readonly InvoiceRowFieldsFragment[] }) {
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
