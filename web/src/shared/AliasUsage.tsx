// A client's calls through model aliases in a month: which name the app sent, which catalog model
// answered, and what it was charged (docs/aliases.md). Used by the portal and the admin client page.
import { Paper, Table, Text, Title } from "@mantine/core";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { formatInteger, formatMoney } from "./format";
import { ErrorState } from "./states";

const AliasUsageQuery = graphql(`
  query AliasUsage($clientId: ID!, $period: String) {
    aliasUsage(clientId: $clientId, period: $period) {
      alias
      model
      requests
      inputTokens
      outputTokens
      charge { amount currency }
    }
    modelAliases(clientId: $clientId) { name modelId clientId }
  }
`);

export function AliasUsage({ clientId, period, currency }: { clientId: string; period: string; currency: string }) {
  const [{ data, error }, reload] = useQuery({
    query: AliasUsageQuery,
    variables: { clientId, period },
    requestPolicy: "network-only",
  });
  if (error && !data) return <ErrorState error={error} retry={() => reload({ requestPolicy: "network-only" })} />;
  if (!data) return null;
  const rows = data.aliasUsage;
  const names = data.modelAliases;
  return (
    <Paper withBorder p="md">
      <Title order={4} mb="xs">Model aliases</Title>
      {names.length === 0 ? (
        <Text c="dimmed" size="sm">No aliases: calls name catalog models directly.</Text>
      ) : (
        <Text size="sm" mb="sm" data-testid="alias-names">
          Names your apps may send:{" "}
          {names.map((a, i) => (
            <span key={`${a.clientId ?? "*"}:${a.name}`}>
              {i > 0 && ", "}
              <code>{a.name}</code> → <code>{a.modelId}</code>
            </span>
          ))}
        </Text>
      )}
      {rows.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table data-testid="alias-usage">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Requested</Table.Th>
                <Table.Th>Answered by</Table.Th>
                <Table.Th ta="right">Requests</Table.Th>
                <Table.Th ta="right">Input tokens</Table.Th>
                <Table.Th ta="right">Output tokens</Table.Th>
                <Table.Th ta="right">Charge</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((row) => (
                <Table.Tr key={`${row.alias}:${row.model}:${row.charge.currency}`}>
                  <Table.Td ff="monospace">{row.alias}</Table.Td>
                  <Table.Td ff="monospace">{row.model}</Table.Td>
                  <Table.Td ta="right">{formatInteger(row.requests)}</Table.Td>
                  <Table.Td ta="right">{formatInteger(row.inputTokens)}</Table.Td>
                  <Table.Td ta="right">{formatInteger(row.outputTokens)}</Table.Td>
                  <Table.Td ta="right">{formatMoney(row.charge.amount, row.charge.currency || currency)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Paper>
  );
}
