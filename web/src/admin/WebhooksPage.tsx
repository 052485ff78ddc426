// Webhooks (owners and admins manage, viewers read): where alerts are POSTed, for one client
// or all, each with its latest deliveries; creating one shows its signing secret once.
import { Anchor, Badge, Button, Checkbox, Code, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { AlertKind, WebhooksPageQuery } from "../gql/graphql";
import { AGENCY_KINDS, alertKindLabel, deliveryStatusColor, describeEvents, describeLastAttempt, kindsFor } from "../shared/alerts";
import { formatDateTime } from "../shared/format";
import { SecretOnce } from "../shared/SecretOnce";
import { Empty, ErrorState, Loading, MutationError } from "../shared/states";
import { canWrite, useSession } from "./session";

const DELIVERIES = 10;

const WebhooksQuery = graphql(`
  query WebhooksPage($deliveries: Int!) {
    webhooks {
      id url clientId events createdAt disabledAt
      deliveries(first: $deliveries) {
        id eventId status attempts lastStatusCode lastError nextAttemptAt deliveredAt createdAt
      }
    }
    clients { id name }
  }
`);

const CreateWebhook = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      __typename
      ... on CreateWebhookSuccess { secret webhook { id } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const DeleteWebhook = graphql(`
  mutation DeleteWebhook($id: ID!) {
    deleteWebhook(id: $id) {
      __typename
      ... on DeleteWebhookSuccess { webhook { id disabledAt } }
      ... on NotFoundError { message }
    }
  }
`);

type Webhook = WebhooksPageQuery["webhooks"][number];

export function WebhooksPage() {
  const session = useSession();
  const [{ data, fetching, error }, reload] = useQuery({ query: WebhooksQuery, variables: { deliveries: DELIVERIES } });
  const refresh = () => reload({ requestPolicy: "network-only" });
  const [problem, setProblem] = useState<string | null>(null);
  const [, remove] = useMutation(DeleteWebhook);
  const writable = canWrite(session);
  const names = new Map((data?.clients ?? []).map((c) => [c.id, c.name]));

  async function disable(webhook: Webhook) {
    if (!window.confirm(`Disable the webhook to ${webhook.url}? Pending deliveries are cancelled; the history is kept.`)) return;
    setProblem(null);
    const result = await remove({ id: webhook.id });
    const answer = result.data?.deleteWebhook;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "DeleteWebhookSuccess") setProblem(answer.message);
    else refresh();
  }

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Webhooks</Title>
        <Button variant="default" onClick={refresh} loading={fetching && !!data}>
          Refresh deliveries
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        Each alert is POSTed, signed, to the webhooks subscribed to its kind: an agency webhook gets every client's
        alerts, a client webhook that client's only. Failed attempts are retried with backoff.
      </Text>
      {fetching && !data && <Loading what="webhooks" />}
      {error && !data && <ErrorState error={error} retry={refresh} />}
      {data && data.webhooks.length === 0 && (
        <Empty title="No webhooks yet">
          <Text c="dimmed" maw={520}>
            {writable
              ? "Add one below to have alerts sent to your chat, pager or ticketing system."
              : "An owner or admin can add one to have alerts sent to your chat, pager or ticketing system."}
          </Text>
        </Empty>
      )}
      {data?.webhooks.map((webhook) => (
        <WebhookCard key={webhook.id} webhook={webhook} zone={session.timeZone} names={names}
          onDisable={writable ? () => void disable(webhook) : undefined} />
      ))}
      <MutationError message={problem} />
      {data && writable && <NewWebhook clients={data.clients} onCreated={refresh} />}
    </Stack>
  );
}

function WebhookCard({
  webhook,
  zone,
  names,
  onDisable,
}: {
  webhook: Webhook;
  zone: string;
  names: ReadonlyMap<string, string>;
  onDisable?: () => void;
}) {
  return (
    <Paper withBorder p="md" data-testid={`webhook-${webhook.id}`}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Stack gap={2} style={{ minWidth: 0 }}>
            <Text fw={600} ff="monospace" style={{ wordBreak: "break-all" }} data-testid="webhook-url">
              {webhook.url}
            </Text>
            <Text size="sm">
              {webhook.clientId ? (
                <Anchor component={Link} to={`/clients/${webhook.clientId}`}>
                  {names.get(webhook.clientId) ?? "a deleted client"}
                </Anchor>
              ) : (
                "All clients"
              )}{" "}
              · {describeEvents(webhook.events, webhook.clientId != null)} · created {formatDateTime(webhook.createdAt, zone)}
            </Text>
          </Stack>
          {webhook.disabledAt ? (
            <Badge color="gray">disabled {formatDateTime(webhook.disabledAt, zone)}</Badge>
          ) : onDisable ? (
            <Button size="xs" variant="subtle" color="red" onClick={onDisable} aria-label={`Disable the webhook to ${webhook.url}`}>
              Disable
            </Button>
          ) : (
            <Badge color="green">active</Badge>
          )}
        </Group>
        <Deliveries deliveries={webhook.deliveries} zone={zone} />
      </Stack>
    </Paper>
  );
}

function Deliveries({ deliveries, zone }: { deliveries: Webhook["deliveries"]; zone: string }) {
  if (deliveries.length === 0) {
    return <Text size="sm" c="dimmed">No deliveries yet: the next alert it subscribes to is sent within seconds.</Text>;
  }
  return (
    <Table.ScrollContainer minWidth={680}>
      <Table data-testid="deliveries" verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Alert raised</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Attempts</Table.Th>
            <Table.Th>Last attempt</Table.Th>
            <Table.Th>Next attempt</Table.Th>
            <Table.Th>Delivered</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {deliveries.map((delivery) => (
            <Table.Tr key={delivery.id} data-testid={`delivery-${delivery.eventId}`}>
              <Table.Td>{formatDateTime(delivery.createdAt, zone)}</Table.Td>
              <Table.Td>
                <Badge variant="light" color={deliveryStatusColor(delivery.status)}>{delivery.status.toLowerCase()}</Badge>
              </Table.Td>
              <Table.Td>{delivery.attempts}</Table.Td>
              <Table.Td>{describeLastAttempt(delivery.lastStatusCode, delivery.lastError)}</Table.Td>
              <Table.Td>{formatDateTime(delivery.nextAttemptAt, zone)}</Table.Td>
              <Table.Td>{formatDateTime(delivery.deliveredAt, zone)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function NewWebhook({ clients, onCreated }: { clients: readonly { id: string; name: string }[]; onCreated: () => void }) {
  const [url, setUrl] = useState("");
  const [clientId, setClientId] = useState<string | null>(null);
  const [events, setEvents] = useState<string[]>([]);
  const [secret, setSecret] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [state, create] = useMutation(CreateWebhook);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const input = { url: url.trim(), clientId, events: events as AlertKind[] };
    const result = await create({ input });
    const answer = result.data?.createWebhook;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "CreateWebhookSuccess") {
      setSecret(answer.secret);
      setUrl("");
      setClientId(null);
      setEvents([]);
      onCreated();
    } else if (answer) setProblem(answer.message);
  }

  return (
    <Paper withBorder p="md">
      <form onSubmit={submit}>
        <Stack>
          <Title order={4}>Add a webhook</Title>
          <TextInput label="URL" placeholder="https://hooks.example.com/bizgraph" value={url} required
            onChange={(e) => setUrl(e.currentTarget.value)} description="https, or http; mailto: an address when email is set up" />
          <Select label="Client" placeholder="All clients (agency webhook)" clearable searchable value={clientId}
            onChange={(id) => {
              setClientId(id);
              if (id !== null) setEvents((chosen) => chosen.filter((kind) => !AGENCY_KINDS.includes(kind)));
            }} data={clients.map((c) => ({ value: c.id, label: c.name }))}
            description="Empty: every client's alerts. A client's own system should get only that client's." />
          <Checkbox.Group label="Alert kinds" description="None ticked: every kind, including kinds added later."
            value={events} onChange={setEvents}>
            <Group mt="xs">
              {kindsFor(clientId !== null).map((kind) => (
                <Checkbox key={kind} value={kind} label={alertKindLabel(kind)} />
              ))}
            </Group>
          </Checkbox.Group>
          <Group>
            <Button type="submit" loading={state.fetching}>Add webhook</Button>
          </Group>
          <MutationError message={problem} />
        </Stack>
      </form>
      <SecretOnce title="Webhook signing secret" secret={secret} onClose={() => setSecret(null)} usage={<VerifyHint />} />
    </Paper>
  );
}

/** How a receiver checks that a POST came from Bizgraph (docs/webhooks.md, "Verifying the signature"). */
function VerifyHint() {
  return (
    <Stack gap={4}>
      <Text size="sm">
        Keep it in the receiver's configuration. Every POST carries <Code>X-Bizgraph-Signature: sha256=…</Code>, the
        HMAC-SHA256 of the raw body keyed with this secret: compute it before parsing the JSON, compare in constant
        time, and deduplicate by <Code>X-Bizgraph-Event-Id</Code> (retries repeat it). In Python:
      </Text>
      <Code block style={{ overflowX: "auto" }}>
        {`expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
ok = hmac.compare_digest(expected, request.headers["X-Bizgraph-Signature"])`}
      </Code>
      <Text size="xs" c="dimmed">More in docs/webhooks.md, "Verifying the signature".</Text>
    </Stack>
  );
}
