// The model catalog: provider prices per million tokens, versioned; add a price version. Each
// model's routes and the aliases that call it; the aliases themselves (AliasesPanel).
import { Badge, Button, Group, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { ModelsPageQuery } from "../gql/graphql";
import { formatDateTime } from "../shared/format";
import { Empty, ErrorState, Loading, MutationError } from "../shared/states";
import { AliasesPanel } from "./AliasesPanel";
import { canWrite, useSession } from "./session";

const ModelsQuery = graphql(`
  query ModelsPage {
    models {
      id
      provider
      kind
      contextWindow
      maxOutputTokens
      fallbacks
      routes
      prices {
        id
        effectiveFrom
        currency
        inputPerMillion
        outputPerMillion
        cachedInputPerMillion
        cacheWritePerMillion
        reasoningPerMillion
      }
    }
    modelAliases { name modelId clientId updatedAt }
    clients { id name }
  }
`);

const SetModelPrice = graphql(`
  mutation SetModelPrice($input: SetModelPriceInput!) {
    setModelPrice(input: $input) {
      __typename
      ... on SetModelPriceSuccess { model { id } price { id } }
      ... on ValidationError { message }
      ... on ConflictError { message }
    }
  }
`);

type Model = ModelsPageQuery["models"][number];
type Price = NonNullable<Model["prices"]>[number];

/** The version in force now: the latest that has started. */
function inForce(prices: readonly Price[], now: Date): Price | undefined {
  return [...prices]
    .filter((p) => new Date(p.effectiveFrom) <= now)
    .sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom))
    .at(-1);
}

/** "POST /v1beta/models/{model}:generateContent" shown as ":generateContent" (the full route in its title). */
const shortRoute = (route: string) => route.replace(/^POST /, "").replace("/v1beta/models/{model}", "");

const per = (amount: string | null | undefined, currency: string) => (amount == null ? "-" : `${amount} ${currency}`);

export function ModelsPage() {
  const session = useSession();
  const [{ data, fetching, error }, reload] = useQuery({ query: ModelsQuery });
  const refresh = () => reload({ requestPolicy: "network-only" });
  const [open, setOpen] = useState<string | null>(null);
  const now = new Date();
  return (
    <Stack>
      <Title order={2}>Model catalog</Title>
      <Text c="dimmed" size="sm">
        Provider prices per million tokens. A call is costed at the version in force when it started.
      </Text>
      {fetching && !data && <Loading what="the catalog" />}
      {error && !data && <ErrorState error={error} retry={refresh} />}
      {data && data.models.length === 0 && (
        <Empty title="No models">
          <Text>Run <code>bizgraph migrate</code> to load the bundled catalog, or add a model price below.</Text>
        </Empty>
      )}
      {data && data.models.length > 0 && (
        <Table.ScrollContainer minWidth={820}>
          <Table striped data-testid="models">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Model</Table.Th>
                <Table.Th>Kind</Table.Th>
                <Table.Th ta="right">Input</Table.Th>
                <Table.Th ta="right">Output</Table.Th>
                <Table.Th ta="right">Cached input</Table.Th>
                <Table.Th ta="right">Cache write</Table.Th>
                <Table.Th ta="right">Reasoning</Table.Th>
                <Table.Th>Versions</Table.Th>
                <Table.Th>Routes and aliases</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.models.flatMap((model) => {
                const prices = model.prices ?? [];
                const price = inForce(prices, now);
                const rows = [
                  <Table.Tr key={model.id}>
                    <Table.Td ff="monospace">{model.id}</Table.Td>
                    <Table.Td>{model.kind.toLowerCase()}</Table.Td>
                    <Table.Td ta="right">{price ? per(price.inputPerMillion, price.currency) : "no price"}</Table.Td>
                    <Table.Td ta="right">{price ? per(price.outputPerMillion, price.currency) : ""}</Table.Td>
                    <Table.Td ta="right">{price ? per(price.cachedInputPerMillion, price.currency) : ""}</Table.Td>
                    <Table.Td ta="right">{price ? per(price.cacheWritePerMillion, price.currency) : ""}</Table.Td>
                    <Table.Td ta="right">{price ? per(price.reasoningPerMillion, price.currency) : ""}</Table.Td>
                    <Table.Td>
                      <Button size="compact-xs" variant="subtle" aria-expanded={open === model.id}
                        onClick={() => setOpen(open === model.id ? null : model.id)}>
                        {prices.length} {prices.length === 1 ? "version" : "versions"}
                      </Button>
                    </Table.Td>
                    <Table.Td data-testid={`routes-${model.id}`}>
                      <Stack gap={4}>
                        <Group gap={4}>
                          {model.routes.map((route) => (
                            <Badge key={route} size="xs" variant="outline" color="gray" tt="none" title={route}>
                              {shortRoute(route)}
                            </Badge>
                          ))}
                        </Group>
                        {data.modelAliases
                          .filter((a) => a.modelId === model.id)
                          .map((a) => (
                            <Group key={`${a.clientId ?? "*"}:${a.name}`} gap={4}>
                              <Badge size="xs" variant="light">alias</Badge>
                              <Text size="xs" ff="monospace">{a.name}</Text>
                              {a.clientId != null && (
                                <Text size="xs" c="dimmed">
                                  ({data.clients.find((c) => c.id === a.clientId)?.name ?? a.clientId})
                                </Text>
                              )}
                            </Group>
                          ))}
                      </Stack>
                    </Table.Td>
                  </Table.Tr>,
                ];
                if (open === model.id) {
                  for (const p of [...prices].reverse()) {
                    rows.push(
                      <Table.Tr key={p.id}>
                        <Table.Td colSpan={2} pl="xl">
                          from {formatDateTime(p.effectiveFrom, session.timeZone)}{" "}
                          {p === price && <Badge size="xs">in force</Badge>}
                        </Table.Td>
                        <Table.Td ta="right">{per(p.inputPerMillion, p.currency)}</Table.Td>
                        <Table.Td ta="right">{per(p.outputPerMillion, p.currency)}</Table.Td>
                        <Table.Td ta="right">{per(p.cachedInputPerMillion, p.currency)}</Table.Td>
                        <Table.Td ta="right">{per(p.cacheWritePerMillion, p.currency)}</Table.Td>
                        <Table.Td ta="right">{per(p.reasoningPerMillion, p.currency)}</Table.Td>
                        <Table.Td />
                        <Table.Td />
                      </Table.Tr>,
                    );
                  }
                }
                return rows;
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {data && (
        <AliasesPanel aliases={data.modelAliases} models={data.models} clients={data.clients} onChanged={refresh} />
      )}
      {canWrite(session) && <PriceForm onSaved={refresh} />}
    </Stack>
  );
}

function PriceForm({ onSaved }: { onSaved: () => void }) {
  const [fields, setFields] = useState({
    model: "",
    provider: "",
    inputPerMillion: "",
    outputPerMillion: "",
    cachedInputPerMillion: "",
    cacheWritePerMillion: "",
    reasoningPerMillion: "",
    effectiveFrom: "",
  });
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [state, save] = useMutation(SetModelPrice);
  const set = (key: keyof typeof fields) => (e: { currentTarget: { value: string } }) =>
    setFields({ ...fields, [key]: e.currentTarget.value });
  const optional = (v: string) => v.trim() || null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setSaved(null);
    const model = fields.model.trim();
    const provider = fields.provider.trim() || model.split("/")[0] || "";
    const result = await save({
      input: {
        model,
        provider,
        inputPerMillion: fields.inputPerMillion.trim(),
        outputPerMillion: fields.outputPerMillion.trim(),
        cachedInputPerMillion: optional(fields.cachedInputPerMillion),
        cacheWritePerMillion: optional(fields.cacheWritePerMillion),
        reasoningPerMillion: optional(fields.reasoningPerMillion),
        effectiveFrom: fields.effectiveFrom ? new Date(fields.effectiveFrom).toISOString() : null,
      },
    });
    const answer = result.data?.setModelPrice;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "SetModelPriceSuccess") {
      setSaved(`Saved a price version for ${answer.model.id}.`);
      onSaved();
    } else if (answer) setProblem(answer.message);
  }

  return (
    <Paper withBorder p="lg">
      <form onSubmit={submit}>
        <Stack>
          <Title order={4}>Add a price version</Title>
          <Text size="sm" c="dimmed">
            For an existing model this adds a version from the given instant (now by default); a new id adds a model.
            Prices are per million tokens in USD.
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Model" placeholder="openai/gpt-4o-mini" value={fields.model} onChange={set("model")} required />
            <TextInput label="Provider" placeholder="from the model id" value={fields.provider} onChange={set("provider")} />
            <TextInput label="Input" value={fields.inputPerMillion} onChange={set("inputPerMillion")} inputMode="decimal" required />
            <TextInput label="Output" value={fields.outputPerMillion} onChange={set("outputPerMillion")} inputMode="decimal" required />
            <TextInput label="Cached input (optional)" value={fields.cachedInputPerMillion} onChange={set("cachedInputPerMillion")} inputMode="decimal" />
            <TextInput label="Cache write (optional)" value={fields.cacheWritePerMillion} onChange={set("cacheWritePerMillion")} inputMode="decimal" />
            <TextInput label="Reasoning (optional)" value={fields.reasoningPerMillion} onChange={set("reasoningPerMillion")} inputMode="decimal" />
            <TextInput label="In force from (optional)" type="datetime-local" value={fields.effectiveFrom} onChange={set("effectiveFrom")} />
          </SimpleGrid>
          <MutationError message={problem} />
          {saved && <Text c="green.7" role="status">{saved}</Text>}
          <Group>
            <Button type="submit" loading={state.fetching}>
              Save price
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
