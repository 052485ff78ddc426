// A list of alerts, newest first: when, kind, (client,) message with its details, and who
// acknowledged it when. The admin screens pass `onAcknowledge` to owners and admins only.
import { Anchor, Badge, Button, Table, Text } from "@mantine/core";
import { Link } from "react-router-dom";
import { alertKindLabel, describeDetails } from "./alerts";
import { formatDateTime } from "./format";

export interface AlertRow {
  id: string;
  kind: string;
  /** null: the agency's own alert (a reconciliation drift), about no client. */
  clientId?: string | null;
  message: string;
  details: readonly { name: string; value: string }[];
  createdAt: string;
  acknowledgedAt?: string | null;
  acknowledgedBy?: string | null;
}

const KIND_COLORS: Record<string, string> = {
  BUDGET_THRESHOLD: "yellow",
  HARD_LIMIT_REFUSED: "red",
  SPEND_SPIKE: "orange",
  RECONCILIATION_DRIFT: "grape",
  INVOICE_OVERDUE: "red",
  SUSPENSION_WARNING: "orange",
  CLIENT_SUSPENDED: "red",
  INVOICE_REFUSED: "red",
  PAYMENT_FAILED: "red",
  PAYMENT_REFUNDED: "blue",
  PAYMENT_DISPUTED: "red",
  PAYMENT_UNMATCHED: "orange",
  BUDGET_UNCOUNTED: "orange",
};

export function AlertsTable({
  alerts,
  zone,
  clientNames,
  onAcknowledge,
  acknowledging,
  showAcknowledgement = true,
  testId = "alerts",
}: {
  alerts: readonly AlertRow[];
  zone: string;
  /** Given: a client column linking to each client's page (the admin's all-clients list). */
  clientNames?: ReadonlyMap<string, string>;
  onAcknowledge?: (alert: AlertRow) => void;
  acknowledging?: string | null;
  showAcknowledgement?: boolean;
  testId?: string;
}) {
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table data-testid={testId} verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Kind</Table.Th>
            {clientNames && <Table.Th>Client</Table.Th>}
            <Table.Th>What happened</Table.Th>
            {showAcknowledgement && <Table.Th>Acknowledged</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {alerts.map((alert) => (
            <Table.Tr key={alert.id} data-testid={`alert-row-${alert.id}`}>
              <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(alert.createdAt, zone)}</Table.Td>
              <Table.Td>
                {/* max-content: the table narrows the message column, never the kind's name */}
                <Badge variant="light" color={KIND_COLORS[alert.kind] ?? "gray"} style={{ minWidth: "max-content" }}>
                  {alertKindLabel(alert.kind)}
                </Badge>
              </Table.Td>
              {clientNames && (
                <Table.Td>
                  {alert.clientId ? (
                    <Anchor component={Link} to={`/clients/${alert.clientId}`} size="sm">
                      {clientNames.get(alert.clientId) ?? "a deleted client"}
                    </Anchor>
                  ) : (
                    <Anchor component={Link} to="/reconciliation" size="sm">
                      the agency (reconciliation)
                    </Anchor>
                  )}
                </Table.Td>
              )}
              <Table.Td>
                <Text size="sm">{alert.message}</Text>
                {alert.details.length > 0 && (
                  <Text size="xs" c="dimmed">
                    {describeDetails(alert.details, zone)
                      .map((d) => `${d.label}: ${d.text}`)
                      .join(" · ")}
                  </Text>
                )}
              </Table.Td>
              {showAcknowledgement && (
                <Table.Td data-col="acknowledged">
                  {alert.acknowledgedAt ? (
                    <Text size="sm">
                      {alert.acknowledgedBy ?? "someone"}, {formatDateTime(alert.acknowledgedAt, zone)}
                    </Text>
                  ) : onAcknowledge ? (
                    <Button size="xs" variant="light" loading={acknowledging === alert.id}
                      onClick={() => onAcknowledge(alert)} aria-label={`Acknowledge the alert: ${alert.message}`}>
                      Acknowledge
                    </Button>
                  ) : (
                    <Badge color="yellow" variant="outline">open</Badge>
                  )}
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
