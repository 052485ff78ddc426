// A client's API keys (issue with the secret shown once, revoke) and its portal tokens.
import { Badge, Button, Group, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../gql";
import { formatDateTime } from "../shared/format";
import { SecretOnce } from "../shared/SecretOnce";
import { MutationError } from "../shared/states";
import { KeyBudgetCell, KeyLimitsDialog, KeyLimitsText, type LimitedKey } from "./KeyLimits";

const IssueKey = graphql(`
  mutation IssueKey($clientId: ID!, $input: IssueApiKeyInput!) {
    issueApiKey(clientId: $clientId, input: $input) {
      __typename
      ... on IssueApiKeySuccess { secret apiKey { id prefix } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const RevokeKey = graphql(`
  mutation RevokeKey($id: ID!) {
    revokeApiKey(id: $id) {
      __typename
      ... on RevokeApiKeySuccess { apiKey { id revokedAt } }
      ... on NotFoundError { message }
    }
  }
`);

const RevokePortalToken = graphql(`
  mutation RevokePortalToken($id: ID!) {
    revokePortalToken(id: $id) {
      __typename
      ... on RevokePortalTokenSuccess { portalToken { id revokedAt } }
      ... on NotFoundError { message }
    }
  }
`);

const CreatePortalToken = graphql(`
  mutation CreatePortalToken($clientId: ID!, $name: String!) {
    createPortalToken(clientId: $clientId, name: $name) {
      __typename
      ... on CreatePortalTokenSuccess { secret portalToken { id prefix } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

interface Key extends LimitedKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt?: string | null;
  revokedAt?: string | null;
  allowedModels: readonly string[];
}

export function KeysPanel({
  clientId,
  currency,
  keys,
  writable,
  zone,
  onChange,
}: {
  clientId: string;
  currency: string;
  keys: readonly Key[];
  writable: boolean;
  zone: string;
  onChange: () => void;
}) {
  const [name, setName] = useState("");
  const [models, setModels] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [issueState, issue] = useMutation(IssueKey);
  const [, revoke] = useMutation(RevokeKey);
  const [limitingId, setLimitingId] = useState<string | null>(null);
  const limiting = keys.find((k) => k.id === limitingId) ?? null; // fresh after each reload

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const allowedModels = models.split(",").map((m) => m.trim()).filter(Boolean);
    const result = await issue({ clientId, input: { name: name.trim(), allowedModels } });
    const answer = result.data?.issueApiKey;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "IssueApiKeySuccess") {
      setSecret(answer.secret);
      setName("");
      setModels("");
      onChange();
    } else if (answer) setProblem(answer.message);
  }

  async function revokeKey(key: Key) {
    if (!window.confirm(`Revoke the key ${key.prefix}…? Calls with it fail from the next request.`)) return;
    setProblem(null);
    const result = await revoke({ id: key.id });
    const answer = result.data?.revokeApiKey;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "RevokeApiKeySuccess") setProblem(answer.message);
    else onChange();
  }

  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>API keys</Title>
        {keys.length === 0 ? (
          <Text c="dimmed">
            No keys yet. {writable ? "Issue one below and give it to the client's app." : ""}
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={760}>
            <Table data-testid="keys">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Key</Table.Th>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Models</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Rate limits</Table.Th>
                  <Table.Th>Budget</Table.Th>
                  {writable && <Table.Th />}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {keys.map((key) => (
                  <Table.Tr key={key.id}>
                    <Table.Td ff="monospace">{key.prefix}…</Table.Td>
                    <Table.Td>{key.name}</Table.Td>
                    <Table.Td>{key.allowedModels.length ? key.allowedModels.join(", ") : "all"}</Table.Td>
                    <Table.Td>{formatDateTime(key.createdAt, zone)}</Table.Td>
                    <Table.Td>
                      {key.revokedAt ? <Badge color="gray" style={{ minWidth: "max-content" }}>revoked</Badge> : <Badge color="green" style={{ minWidth: "max-content" }}>active</Badge>}
                    </Table.Td>
                    <Table.Td data-col="limits"><KeyLimitsText apiKey={key} /></Table.Td>
                    <Table.Td data-col="budget"><KeyBudgetCell budget={key.budget} /></Table.Td>
                    {writable && (
                      <Table.Td>
                        {!key.revokedAt && (
                          <Group gap={4} wrap="nowrap">
                            <Button size="xs" variant="subtle" onClick={() => setLimitingId(key.id)}
                              aria-label={`Limits of key ${key.prefix}`}>
                              Limits
                            </Button>
                            <Button size="xs" variant="subtle" color="red" onClick={() => revokeKey(key)}>
                              Revoke
                            </Button>
                          </Group>
                        )}
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {writable && (
          <form onSubmit={submit}>
            <Group align="flex-end">
              <TextInput label="Key name" placeholder="production app" value={name}
                onChange={(e) => setName(e.currentTarget.value)} />
              <TextInput label="Allowed models (optional)" placeholder="openai/gpt-4o-mini, demo/chat" value={models}
                onChange={(e) => setModels(e.currentTarget.value)} miw={260} />
              <Button type="submit" loading={issueState.fetching}>
                Issue key
              </Button>
            </Group>
          </form>
        )}
        <MutationError message={problem} />
      </Stack>
      <SecretOnce
        title="New API key"
        secret={secret}
        onClose={() => setSecret(null)}
        usage="Use it as the API key of any OpenAI SDK with base URL http(s)://<this server>/v1."
      />
      <KeyLimitsDialog apiKey={limiting} currency={currency} onClose={() => setLimitingId(null)} onChange={onChange} />
    </Paper>
  );
}

interface PortalTokenRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt?: string | null;
}

export function PortalAccess({
  clientId,
  tokens,
  writable,
  zone,
  onChange,
}: {
  clientId: string;
  tokens: readonly PortalTokenRow[];
  writable: boolean;
  zone: string;
  onChange: () => void;
}) {
  const [name, setName] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [state, create] = useMutation(CreatePortalToken);
  const [, revoke] = useMutation(RevokePortalToken);

  async function createToken(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await create({ clientId, name: name.trim() || "portal" });
    const answer = result.data?.createPortalToken;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "CreatePortalTokenSuccess") {
      setSecret(answer.secret);
      setName("");
      onChange();
    } else if (answer) setProblem(answer.message);
  }

  async function revokeToken(token: PortalTokenRow) {
    if (!window.confirm(`Revoke the portal token ${token.prefix}…? Its holder is signed out at once.`)) return;
    setProblem(null);
    const result = await revoke({ id: token.id });
    const answer = result.data?.revokePortalToken;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "RevokePortalTokenSuccess") setProblem(answer.message);
    else onChange();
  }

  return (
    <Paper withBorder p="md">
      <Stack gap="sm">
        <Title order={4}>Client portal</Title>
        <Text size="sm">
          A portal token lets someone at this client open <code>/portal</code> and see this client's usage, charges
          and key prefixes, at the client's price (never your cost or profit).
        </Text>
        {tokens.length > 0 && (
          <Table data-testid="portal-tokens">
            <Table.Tbody>
              {tokens.map((token) => (
                <Table.Tr key={token.id}>
                  <Table.Td ff="monospace">{token.prefix}…</Table.Td>
                  <Table.Td>{token.name}</Table.Td>
                  <Table.Td>{formatDateTime(token.createdAt, zone)}</Table.Td>
                  <Table.Td>
                    {token.revokedAt ? (
                      <Badge color="gray">revoked</Badge>
                    ) : writable ? (
                      <Button size="xs" variant="subtle" color="red" onClick={() => revokeToken(token)}
                        aria-label={`Revoke portal token ${token.prefix}`}>
                        Revoke
                      </Button>
                    ) : (
                      <Badge color="green">active</Badge>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {writable ? (
          <form onSubmit={createToken}>
            <Group align="flex-end">
              <TextInput label="Portal token name" placeholder="finance team" value={name}
                onChange={(e) => setName(e.currentTarget.value)} />
              <Button type="submit" variant="light" loading={state.fetching}>
                Create a portal token
              </Button>
            </Group>
          </form>
        ) : (
          <Text size="sm" c="dimmed">An owner or admin can create portal tokens.</Text>
        )}
        <MutationError message={problem} />
      </Stack>
      <SecretOnce
        title="New portal token"
        secret={secret}
        onClose={() => setSecret(null)}
        usage="Send it to the client with the address of /portal on this server."
      />
    </Paper>
  );
}
