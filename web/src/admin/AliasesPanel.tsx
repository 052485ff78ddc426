// Model aliases: names client apps already send (gpt-4o, my-support-bot) mapped to catalog
// models, for one client or every client; a client's own alias wins (docs/aliases.md).
import { Button, Group, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../gql";
import { formatDateTime } from "../shared/format";
import { MutationError } from "../shared/states";
import { canWrite, useSession } from "./session";

const SetModelAlias = graphql(`
  mutation SetModelAlias($input: SetModelAliasInput!) {
    setModelAlias(input: $input) {
      __typename
      ... on SetModelAliasSuccess { alias { name modelId clientId } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const RemoveModelAlias = graphql(`
  mutation RemoveModelAlias($name: String!, $clientId: ID) {
    removeModelAlias(name: $name, clientId: $clientId) {
      __typename
      ... on RemoveModelAliasSuccess { alias { name } }
      ... on NotFoundError { message }
    }
  }
`);

export type AliasRow = { name: string; modelId: string; clientId?: string | null; updatedAt: string };
type Named = { id: string; name: string };
type Identified = { id: string };

export function AliasesPanel({
  aliases,
  models,
  clients,
  onChanged,
}: {
  aliases: readonly AliasRow[];
  models: readonly Identified[];
  clients: readonly Named[];
  onChanged: () => void;
}) {
  const session = useSession();
  const writable = canWrite(session);
  const [problem, setProblem] = useState<string | null>(null);
  const [, remove] = useMutation(RemoveModelAlias);
  const clientName = (id: string | null | undefined) =>
    id == null ? "Every client" : (clients.find((c) => c.id === id)?.name ?? id);

  async function drop(alias: AliasRow) {
    setProblem(null);
    const result = await remove({ name: alias.name, clientId: alias.clientId ?? null });
    const answer = result.data?.removeModelAlias;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "NotFoundError") setProblem(answer.message);
    else onChanged();
  }

  return (
    <Paper withBorder p="lg">
      <Stack>
        <Title order={3}>Model aliases</Title>
        <Text size="sm" c="dimmed">
          A client app sends the alias as its model; the call is authorized, limited and billed as the catalog model it
          names, and its usage record keeps both names. A client&apos;s own alias wins over the agency&apos;s.
        </Text>
        {aliases.length === 0 ? (
          <Text c="dimmed">No aliases yet.</Text>
        ) : (
          <Table.ScrollContainer minWidth={560}>
            <Table striped data-testid="aliases">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Alias</Table.Th>
                  <Table.Th>Calls</Table.Th>
                  <Table.Th>For</Table.Th>
                  <Table.Th>Changed</Table.Th>
                  {writable && <Table.Th />}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {aliases.map((alias) => (
                  <Table.Tr key={`${alias.clientId ?? "*"}:${alias.name}`}>
                    <Table.Td ff="monospace">{alias.name}</Table.Td>
                    <Table.Td ff="monospace">{alias.modelId}</Table.Td>
                    <Table.Td>{clientName(alias.clientId)}</Table.Td>
                    <Table.Td>{formatDateTime(alias.updatedAt, session.timeZone)}</Table.Td>
                    {writable && (
                      <Table.Td>
                        <Button size="compact-xs" variant="subtle" color="red" onClick={() => void drop(alias)}
                          aria-label={`Remove alias ${alias.name}`}>
                          Remove
                        </Button>
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <MutationError message={problem} />
        {writable && <AliasForm models={models} clients={clients} onSaved={onChanged} />}
      </Stack>
    </Paper>
  );
}

function AliasForm({ models, clients, onSaved }: { models: readonly Identified[]; clients: readonly Named[]; onSaved: () => void }) {
  const [name, setName] = useState("");
  const [modelId, setModelId] = useState<string | null>(null);
  const [clientId, setClientId] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [state, save] = useMutation(SetModelAlias);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setSaved(null);
    if (!modelId) {
      setProblem("Choose the catalog model the alias calls.");
      return;
    }
    const result = await save({ input: { name: name.trim(), modelId, clientId } });
    const answer = result.data?.setModelAlias;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "SetModelAliasSuccess") {
      setSaved(`${answer.alias.name} now calls ${answer.alias.modelId}.`);
      setName("");
      onSaved();
    } else if (answer) setProblem(answer.message);
  }

  return (
    <form onSubmit={submit}>
      <Stack>
        <Title order={4}>Set an alias</Title>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput label="Alias" placeholder="gpt-4o" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
          <Select label="Calls model" placeholder="provider/model" searchable data={models.map((m) => m.id)} value={modelId}
            onChange={setModelId} />
          <Select label="For client" placeholder="Every client (agency alias)" clearable searchable value={clientId}
            onChange={setClientId} data={clients.map((c) => ({ value: c.id, label: c.name }))} />
        </SimpleGrid>
        <MutationError message={problem} />
        {saved && <Text c="green.7" role="status">{saved}</Text>}
        <Group>
          <Button type="submit" loading={state.fetching}>Save alias</Button>
        </Group>
      </Stack>
    </form>
  );
}
