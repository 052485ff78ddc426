// Every client's alerts, newest first, with a filter for the unacknowledged ones; owners and
// admins acknowledge them. Also the client page's alerts panel and the navigation's count.
import { Anchor, Badge, Group, Paper, SegmentedControl, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import { AlertsTable, type AlertRow } from "../shared/AlertsTable";
import { Empty, ErrorState, Loading, MutationError } from "../shared/states";
import { canWrite, useSession } from "./session";

const SHOWN = 200;
/** The navigation counts open alerts up to this many ("99+" beyond). */
const COUNTED = 100;

const AlertsQuery = graphql(`
  query AlertsPage($unacknowledgedOnly: Boolean!, $first: Int!) {
    alerts(unacknowledgedOnly: $unacknowledgedOnly, first: $first) {
      id kind clientId message details { name value } createdAt acknowledgedAt acknowledgedBy
    }
    clients { id name }
  }
`);

const OpenAlertsQuery = graphql(`
  query OpenAlertCount($first: Int!) {
    alerts(unacknowledgedOnly: true, first: $first) { id }
  }
`);

const AcknowledgeAlert = graphql(`
  mutation AcknowledgeAlert($id: ID!) {
    acknowledgeAlert(id: $id) {
      __typename
      ... on AcknowledgeAlertSuccess { alert { id acknowledgedAt acknowledgedBy } }
      ... on NotFoundError { message }
    }
  }
`);

/** Acknowledging an alert: which one is in flight, the problem if any, and the action. */
export function useAcknowledge(onDone: () => void) {
  const [, acknowledge] = useMutation(AcknowledgeAlert);
  const [pending, setPending] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  async function run(alert: AlertRow) {
    setProblem(null);
    setPending(alert.id);
    const result = await acknowledge({ id: alert.id });
    setPending(null);
    const answer = result.data?.acknowledgeAlert;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "AcknowledgeAlertSuccess") setProblem(answer.message);
    else onDone();
  }
  return { pending, problem, acknowledge: run };
}

export function AlertsPage() {
  const session = useSession();
  const [filter, setFilter] = useState<"open" | "all">("all");
  const [{ data, fetching, error }, reload] = useQuery({
    query: AlertsQuery,
    variables: { unacknowledgedOnly: filter === "open", first: SHOWN },
  });
  const refresh = () => reload({ requestPolicy: "network-only" });
  const { pending, problem, acknowledge } = useAcknowledge(refresh);
  const names = new Map((data?.clients ?? []).map((c) => [c.id, c.name]));

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Alerts</Title>
        <SegmentedControl
          aria-label="Which alerts"
          value={filter}
          onChange={(value) => setFilter(value === "open" ? "open" : "all")}
          data={[
            { value: "all", label: "All" },
            { value: "open", label: "Unacknowledged" },
          ]}
        />
      </Group>
      <Text size="sm" c="dimmed">
        Budget thresholds, refused calls and spend spikes, newest first (the latest {SHOWN}). Each is also sent to
        the <Anchor component={Link} to="/webhooks">webhooks</Anchor> subscribed to it.
      </Text>
      <MutationError message={problem} />
      {fetching && !data && <Loading what="alerts" />}
      {error && !data && <ErrorState error={error} retry={refresh} />}
      {data && data.alerts.length === 0 && (
        <Empty title={filter === "open" ? "Nothing to acknowledge" : "No alerts yet"}>
          <Text c="dimmed" maw={520}>
            {filter === "open"
              ? "Every alert has been acknowledged. Switch to All to see them."
              : "Alerts appear here when a client crosses a budget threshold, hits a hard limit or spends far above its usual hourly rate. Add a webhook to be told at once."}
          </Text>
        </Empty>
      )}
      {data && data.alerts.length > 0 && (
        <Paper withBorder p="md">
          <AlertsTable
            alerts={data.alerts}
            zone={session.timeZone}
            clientNames={names}
            onAcknowledge={canWrite(session) ? acknowledge : undefined}
            acknowledging={pending}
          />
        </Paper>
      )}
    </Stack>
  );
}

/** The client page's alerts (its latest ones), acknowledged in place by owners and admins. */
export function ClientAlerts({
  alerts,
  zone,
  writable,
  onChange,
}: {
  alerts: readonly AlertRow[];
  zone: string;
  writable: boolean;
  onChange: () => void;
}) {
  const { pending, problem, acknowledge } = useAcknowledge(onChange);
  const open = alerts.filter((a) => !a.acknowledgedAt).length;
  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <Group gap="sm">
          <Title order={4}>Alerts</Title>
          {open > 0 && <Badge color="red">{open} unacknowledged</Badge>}
        </Group>
        {alerts.length === 0 ? (
          <Text c="dimmed">No alerts for this client. They appear here when it crosses a budget or spends unusually fast.</Text>
        ) : (
          <AlertsTable alerts={alerts} zone={zone} onAcknowledge={writable ? acknowledge : undefined}
            acknowledging={pending} testId="client-alerts" />
        )}
        <MutationError message={problem} />
        <Anchor component={Link} to="/alerts" size="sm">Every client's alerts</Anchor>
      </Stack>
    </Paper>
  );
}

/** The navigation's open-alert count: one small query, refetched by urql after an acknowledgement. */
export function OpenAlertCount() {
  const [{ data }] = useQuery({ query: OpenAlertsQuery, variables: { first: COUNTED } });
  const count = data?.alerts.length ?? 0;
  if (count === 0) return null;
  return (
    <Badge size="sm" color="red" circle={count < 10} aria-label={`${count} unacknowledged`} data-testid="open-alerts">
      {count >= COUNTED ? `${COUNTED - 1}+` : count}
    </Badge>
  );
}
