// The portal's overdue invoices, highlighted above its invoice list.
import { Alert, List, Text } from "@mantine/core";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { formatDateTime, formatMoney } from "./format";

const PortalOverdue = graphql(`
  query PortalOverdue {
    overdueInvoices { daysOverdue invoice { id number currency dueAt total { amount } } }
  }
`);

export function OverdueNotice({ zone }: { zone: string }) {
  const [{ data }] = useQuery({ query: PortalOverdue });
  if (!data || data.overdueInvoices.length === 0) return null;
  return (
    <Alert color="red" title="Overdue" mb="sm" data-testid="portal-overdue">
      <Text size="sm" mb="xs">These invoices are past their due date; please pay them.</Text>
      <List size="sm">
        {data.overdueInvoices.map(({ invoice, daysOverdue }) => (
          <List.Item key={invoice.id}>
            <b>{invoice.number}</b>: {formatMoney(invoice.total.amount, invoice.currency)}, due {formatDateTime(invoice.dueAt, zone)} ({daysOverdue} days overdue)
          </List.Item>
        ))}
      </List>
    </Alert>
  );
}
