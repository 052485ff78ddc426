// Account credits of one client: granted by owners and admins, applied as negative lines on the
// client's next invoices (oldest first); what an invoice could not use stays for the next one.
import { Button, Group, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../gql";
import type { AccountCreditFieldsFragment } from "../gql/graphql";
import { formatDateTime, formatMoney } from "../shared/format";
import { MutationError } from "../shared/states";

export const AccountCreditFields = graphql(`
  fragment AccountCreditFields on AccountCredit {
    id
    amount { amount currency }
    remaining { amount currency }
    reason
    grantedAt
  }
`);

const GrantCredit = graphql(`
  mutation GrantCredit($clientId: ID!, $amount: Decimal!, $reason: String!) {
    grantCredit(clientId: $clientId, amount: $amount, reason: $reason) {
      __typename
      ... on GrantCreditSuccess { credit { id } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

export function CreditsPanel({
  clientId,
  currency,
  credits,
  writable,
  zone,
  onChange,
}: {
  clientId: string;
  currency: string;
  credits: readonly AccountCreditFieldsFragment[];
  writable: boolean;
  zone: string;
  onChange: () => void;
}) {
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [state, grant] = useMutation(GrantCredit);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await grant({ clientId, amount: amount.trim(), reason: reason.trim() });
    const answer = result.data?.grantCredit;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "GrantCreditSuccess") setProblem(answer.message);
    else {
      setAmount("");
      setReason("");
      onChange();
    }
  }

  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>Account credits still to apply</Title>
        {credits.length === 0 ? (
          <Text c="dimmed">
            No credit left to apply. A credit granted here is taken off the client's next invoices, as a
            negative line.
          </Text>
        ) : (
          <Table data-testid="client-credits">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Granted</Table.Th>
                <Table.Th>Reason</Table.Th>
                <Table.Th ta="right">Amount</Table.Th>
                <Table.Th ta="right">Not used yet</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {credits.map((credit) => (
                <Table.Tr key={credit.id}>
                  <Table.Td>{formatDateTime(credit.grantedAt, zone)}</Table.Td>
                  <Table.Td>{credit.reason}</Table.Td>
                  <Table.Td ta="right">{formatMoney(credit.amount.amount, credit.amount.currency)}</Table.Td>
                  <Table.Td ta="right">{formatMoney(credit.remaining.amount, credit.remaining.currency)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {writable && (
          <form onSubmit={submit}>
            <Group align="flex-end">
              <TextInput label={`Credit amount (${currency})`} value={amount}
                onChange={(e) => setAmount(e.currentTarget.value)} required />
              <TextInput label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} required />
              <Button type="submit" variant="light" loading={state.fetching}>Grant credit</Button>
            </Group>
          </form>
        )}
        <MutationError message={problem} />
      </Stack>
    </Paper>
  );
}
