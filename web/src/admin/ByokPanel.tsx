// A client's own provider keys (BYOK, docs/byok.md): the stored credentials, masked (last four
// characters, last use), a form to store one (checked with the provider first) and the BYOK fee
// and rules. Owners and admins change; viewers read.
import { Button, Checkbox, Group, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import { formatDateTime } from "../shared/format";
import { ErrorState, MutationError } from "../shared/states";
import { canWrite, useSession } from "./session";

const ByokQuery = graphql(`
  query ByokPanel($clientId: ID!) {
    providerCredentials(clientId: $clientId) { id provider last4 baseUrl models createdAt lastUsedAt removedAt }
    byokSettings(clientId: $clientId) { feeKind feeAmount budgetBasis fallbackToAgency onRevoke }
  }
`);

const SetCredential = graphql(`
  mutation SetProviderCredential($input: SetProviderCredentialInput!) {
    setProviderCredential(input: $input) {
      __typename
      ... on SetProviderCredentialSuccess { credential { id last4 } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const RemoveCredential = graphql(`
  mutation RemoveProviderCredential($clientId: ID!, $credentialId: ID!) {
    removeProviderCredential(clientId: $clientId, credentialId: $credentialId) {
      __typename
      ... on RemoveProviderCredentialSuccess { credential { id } }
      ... on NotFoundError { message }
    }
  }
`);

const SetSettings = graphql(`
  mutation SetByokSettings($input: SetByokSettingsInput!) {
    setByokSettings(input: $input) {
      __typename
      ... on SetByokSettingsSuccess { settings { feeKind feeAmount } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const FEE_KINDS = [
  { value: "INCLUDED", label: "Included in the plan" },
  { value: "PERCENT_OF_LIST", label: "Percent of list cost" },
  { value: "PER_REQUEST", label: "Per request" },
  { value: "PER_MILLION_TOKENS", label: "Per million tokens" },
];
type FeeKind = "INCLUDED" | "PERCENT_OF_LIST" | "PER_REQUEST" | "PER_MILLION_TOKENS";

export function ByokPanel({ clientId }: { clientId: string }) {
  const session = useSession();
  const writable = canWrite(session);
  const [{ data, error }, reload] = useQuery({ query: ByokQuery, variables: { clientId }, requestPolicy: "network-only" });
  const [problem, setProblem] = useState<string | null>(null);
  const [, remove] = useMutation(RemoveCredential);
  const refresh = () => reload({ requestPolicy: "network-only" });
  if (error && !data) return <ErrorState error={error} retry={refresh} />;
  if (!data) return null;

  async function drop(credentialId: string) {
    setProblem(null);
    const result = await remove({ clientId, credentialId });
    const answer = result.data?.removeProviderCredential;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "NotFoundError") setProblem(answer.message);
    else refresh();
  }

  const credentials = data.providerCredentials;
  return (
    <Paper withBorder p="lg">
      <Stack>
        <Title order={3}>Own provider keys (BYOK)</Title>
        <Text size="sm" c="dimmed">
          Calls to these models go upstream with the client&apos;s own key: its provider bills it directly, and it pays
          the BYOK fee below. Keys are stored encrypted and never shown again.
        </Text>
        {credentials.length === 0 ? (
          <Text c="dimmed">No keys of its own.</Text>
        ) : (
          <Table.ScrollContainer minWidth={560}>
            <Table striped data-testid="byok-credentials">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Provider</Table.Th>
                  <Table.Th>Key</Table.Th>
                  <Table.Th>Models</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th>Removed</Table.Th>
                  {writable && <Table.Th />}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {credentials.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>{c.provider}{c.baseUrl ? ` (${c.baseUrl})` : ""}</Table.Td>
                    <Table.Td ff="monospace">…{c.last4}</Table.Td>
                    <Table.Td ff="monospace">{c.models.length ? c.models.join(", ") : "all"}</Table.Td>
                    <Table.Td>{c.lastUsedAt ? formatDateTime(c.lastUsedAt, session.timeZone) : "never"}</Table.Td>
                    <Table.Td>{c.removedAt ? formatDateTime(c.removedAt, session.timeZone) : ""}</Table.Td>
                    {writable && (
                      <Table.Td>
                        {!c.removedAt && (
                          <Button size="compact-xs" variant="subtle" color="red" onClick={() => void drop(c.id)}
                            aria-label={`Remove the ${c.provider} key ending ${c.last4}`}>
                            Remove
                          </Button>
                        )}
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <MutationError message={problem} />
        {writable && <CredentialForm clientId={clientId} onSaved={refresh} />}
        <SettingsForm clientId={clientId} settings={data.byokSettings} writable={writable} onSaved={refresh} />
      </Stack>
    </Paper>
  );
}

function CredentialForm({ clientId, onSaved }: { clientId: string; onSaved: () => void }) {
  const [provider, setProvider] = useState<string | null>("openai");
  const [apiKey, setApiKey] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [models, setModels] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [state, save] = useMutation(SetCredential);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setSaved(null);
    const chosen = models.split(/[\s,]+/).filter((m) => m.length > 0);
    const input = {
      clientId,
      provider: provider ?? "openai",
      apiKey,
      baseUrl: baseUrl.trim() || null,
      models: chosen.length ? chosen : null,
    };
    const result = await save({ input });
    const answer = result.data?.setProviderCredential;
    setApiKey(""); // never kept in the page once sent
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "SetProviderCredentialSuccess") {
      setSaved(`Stored the key ending ${answer.credential.last4}.`);
      onSaved();
    } else if (answer) setProblem(answer.message);
  }

  return (
    <form onSubmit={submit}>
      <Stack>
        <Title order={4}>Store a key</Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select label="Provider" data={["openai", "anthropic", "google"]} value={provider} onChange={setProvider} />
          <TextInput label="API key" type="password" autoComplete="off" value={apiKey}
            onChange={(e) => setApiKey(e.currentTarget.value)} required />
          <TextInput label="Base URL (OpenAI-compatible, optional)" value={baseUrl}
            onChange={(e) => setBaseUrl(e.currentTarget.value)} />
          <TextInput label="Only these models (optional)" placeholder="openai/gpt-4o, openai/gpt-4o-mini" value={models}
            onChange={(e) => setModels(e.currentTarget.value)} />
        </SimpleGrid>
        <MutationError message={problem} />
        {saved && <Text c="green.7" role="status">{saved}</Text>}
        <Group>
          <Button type="submit" loading={state.fetching}>Check and store</Button>
        </Group>
      </Stack>
    </form>
  );
}

type Settings = { feeKind: string; feeAmount: string; budgetBasis: string; fallbackToAgency: boolean; onRevoke: string };

function SettingsForm({ clientId, settings, writable, onSaved }: {
  clientId: string; settings: Settings; writable: boolean; onSaved: () => void;
}) {
  const [feeKind, setFeeKind] = useState<string | null>(settings.feeKind);
  const [feeAmount, setFeeAmount] = useState(settings.feeAmount);
  const [budgetBasis, setBudgetBasis] = useState<string | null>(settings.budgetBasis);
  const [fallback, setFallback] = useState(settings.fallbackToAgency);
  const [onRevoke, setOnRevoke] = useState<string | null>(settings.onRevoke);
  const [problem, setProblem] = useState<string | null>(null);
  const [state, save] = useMutation(SetSettings);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const input = {
      clientId,
      feeKind: (feeKind ?? "INCLUDED") as FeeKind,
      feeAmount: feeAmount.trim() || "0",
      budgetBasis: budgetBasis === "LIST_COST" ? ("LIST_COST" as const) : ("FEE" as const),
      fallbackToAgency: fallback,
      onRevoke: onRevoke === "REFUSE" ? ("REFUSE" as const) : ("AGENCY" as const),
    };
    const result = await save({ input });
    const answer = result.data?.setByokSettings;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "SetByokSettingsSuccess") onSaved();
    else if (answer) setProblem(answer.message);
  }

  return (
    <form onSubmit={submit}>
      <Stack>
        <Title order={4}>BYOK fee and rules</Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select label="Fee" data={FEE_KINDS} value={feeKind} onChange={setFeeKind} disabled={!writable} />
          <TextInput label="Amount (percent, or per request / per million tokens)" value={feeAmount}
            onChange={(e) => setFeeAmount(e.currentTarget.value)} disabled={!writable || feeKind === "INCLUDED"} />
          <Select label="Budgets count" disabled={!writable} value={budgetBasis} onChange={setBudgetBasis}
            data={[{ value: "FEE", label: "the fee" }, { value: "LIST_COST", label: "the list cost" }]} />
          <Select label="When a key is removed" disabled={!writable} value={onRevoke} onChange={setOnRevoke}
            data={[{ value: "AGENCY", label: "use the agency's key" }, { value: "REFUSE", label: "refuse the calls" }]} />
        </SimpleGrid>
        <Checkbox label="Allow fallbacks to agency-paid models (billed normally)" checked={fallback}
          onChange={(e) => setFallback(e.currentTarget.checked)} disabled={!writable} />
        <MutationError message={problem} />
        {writable && (
          <Group>
            <Button type="submit" loading={state.fetching}>Save fee and rules</Button>
          </Group>
        )}
      </Stack>
    </form>
  );
}
