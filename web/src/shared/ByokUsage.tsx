// A client's calls made with its own provider keys in a month (docs/byok.md): what its provider
// billed it directly at list price, and the agency's fee. Used by the portal and the admin client page.
import { Paper, Table, Title } from "@mantine/core";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { formatInteger, formatMoney } from "./format";
import { ErrorState } from "./states";

const ByokUsageQuery = graphql(`
  query ByokUsage($clientId: ID!, $period: String) {
    byokUsage(clientId: $clientId, period: $period) {
      model
      requests
      inputTokens
      outputTokens
      listCost { amount currency }
      fee { amount currency }
    }
  }
`);

export function ByokUsage({ clientId, period }: { clientId: string; period: string }) {
  const [{ data, error }, reload] = useQuery({
    query: ByokUsageQuery,
    variables: { clientId, period },
    requestPolicy: "network-only",
  });
  if (error && !data) return <ErrorState error={error} retry={() => reload({ requestPolicy: "network-only" })} />;
  if (!data || data.byokUsage.length === 0) return null;
  return (
    <Paper withBorder p="md">
      <Title order={4} mb="xs">With your own provider keys</Title>
      <Table.ScrollContainer minWidth={560}>
        <Table data-testid="byok-usage">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Model</Table.Th>
              <Table.Th ta="right">Requests</Table.Th>
              <Table.Th ta="right">Input tokens</Table.Th>
              <Table.Th ta="right">Output tokens</Table.Th>
              <Table.Th ta="right">Paid to the provider directly (list cost)</Table.Th>
              <Table.Th ta="right">Our fee</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.byokUsage.map((row) => (
              <Table.Tr key={row.model}>
                <Table.Td ff="monospace">{row.model}</Table.Td>
                <Table.Td ta="right">{formatInteger(row.requests)}</Table.Td>
                <Table.Td ta="right">{formatInteger(row.inputTokens)}</Table.Td>
                <Table.Td ta="right">{formatInteger(row.outputTokens)}</Table.Td>
                <Table.Td ta="right">{formatMoney(row.listCost.amount, row.listCost.currency)}</Table.Td>
                <Table.Td ta="right">{formatMoney(row.fee.amount, row.fee.currency)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}
