// Calls billed on an estimate (a crashed process, a cut stream) for the reconciliation page's days
// and provider: each with what the provider's hour implies it used, and its settlement or, for
// owners and admins, a form to settle it at the provider's figures (docs/reconciliation.md).
import { Badge, Button, Checkbox, Group, Modal, Paper, SimpleGrid, Stack, Table, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useState, type ChangeEvent, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { CallsToSettleQuery } from "../gql/graphql";
import { formatDateTime, formatMoney } from "../shared/format";
import {
  OUTCOME_COLORS,
  OUTCOME_LABELS,
  prefill,
  settlementInput,
  tokensText,
  type TokenDraft,
} from "../shared/settlements";
import { ErrorState, Loading, MutationError } from "../shared/states";
import { canWrite, useSession } from "./session";

const CallsToSettleQuery = graphql(`
  query CallsToSettle($from: String!, $to: String!, $providers: [String!]) {
    callsToSettle(from: $from, to: $to, providers: $providers) {
      usageRecordId requestId clientId clientName provider model startedAt
      estimated { input cachedInput cacheWrite output }
      cost { amount currency }
      charge { amount currency }
      suggested { input cachedInput cacheWrite output }
      settlement {
        id outcome reason settledBy settledAt reference invoiceId
        actual { input cachedInput cacheWrite output }
        amount { amount currency }
      }
    }
  }
`);

const SettleEstimatedCall = graphql(`
  mutation SettleEstimatedCall($usageRecordId: ID!, $tokens: SettledTokensInput!, $reason: String!, $billShortfall: Boolean!) {
    settleEstimatedCall(usageRecordId: $usageRecordId, tokens: $tokens, reason: $reason, billShortfall: $billShortfall) {
      __typename
      ... on SettleEstimatedCallSuccess { settlement { id outcome amount { amount currency } } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
      ... on ConflictError { message }
    }
  }
`);

type Call = CallsToSettleQuery["callsToSettle"][number];

export function EstimatedCalls({
  from,
  to,
  providers,
  onSettled,
}: {
  from: string;
  to: string;
  providers: string[] | null;
  onSettled: () => void;
}) {
  const session = useSession();
  const writable = canWrite(session);
  const [settling, setSettling] = useState<Call | null>(null);
  const [{ data, fetching, error }, reload] = useQuery({
    query: CallsToSettleQuery,
    variables: { from, to, providers },
  });
  const calls = data?.callsToSettle ?? [];

  function settled() {
    setSettling(null);
    reload({ requestPolicy: "network-only" });
    onSettled();
  }

  return (
    <Stack gap="xs" data-testid="estimated-calls">
      <Title order={3}>Calls billed on an estimate</Title>
      <Text size="sm" c="dimmed" maw={760}>
        Calls whose usage Bizgraph had to estimate (the process crashed, the stream was cut), started on these days.
        Settle one at the provider's figures: an over-estimate goes back to the client, an under-estimate is absorbed
        unless you bill it. Each call is settled once.
      </Text>
      {fetching && !data && <Loading what="the estimated calls" />}
      {error && !data && <ErrorState error={error} retry={() => reload({ requestPolicy: "network-only" })} />}
      {data && calls.length === 0 && (
        <Text size="sm" c="dimmed">No call was billed on an estimate these days.</Text>
      )}
      {calls.length > 0 && (
        <Paper withBorder p="md">
          <Table.ScrollContainer minWidth={1000}>
            <Table verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Started</Table.Th>
                  <Table.Th>Client</Table.Th>
                  <Table.Th>Model</Table.Th>
                  <Table.Th>Estimated tokens</Table.Th>
                  <Table.Th>Charge</Table.Th>
                  <Table.Th>Provider's hour implies</Table.Th>
                  <Table.Th>Settlement</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {calls.map((call) => (
                  <Table.Tr key={call.usageRecordId} data-testid={`estimated-call-${call.requestId}`}
                    data-settled={call.settlement ? "yes" : "no"}>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(call.startedAt, session.timeZone)}</Table.Td>
                    <Table.Td>{call.clientName}</Table.Td>
                    <Table.Td>
                      <Text size="sm">{call.model}</Text>
                      {!call.model.startsWith(`${call.provider}/`) && <Text size="xs" c="dimmed">{call.provider}</Text>}
                    </Table.Td>
                    <Table.Td>{tokensText(call.estimated)}</Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{formatMoney(call.charge.amount, call.charge.currency)}</Table.Td>
                    <Table.Td>
                      {call.suggested ? tokensText(call.suggested) : <Text size="sm" c="dimmed">cannot be told</Text>}
                    </Table.Td>
                    <Table.Td>
                      {call.settlement ? (
                        <SettlementCell settlement={call.settlement} zone={session.timeZone} />
                      ) : writable ? (
                        <Button size="xs" variant="light" onClick={() => setSettling(call)}>Settle</Button>
                      ) : (
                        <Text size="sm" c="dimmed">Not settled</Text>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
      <Modal opened={settling !== null} onClose={() => setSettling(null)} size="lg"
        title={settling ? `Settle the ${settling.model} call of ${settling.clientName}` : ""}>
        {settling && <SettleForm key={settling.usageRecordId} call={settling} zone={session.timeZone} onSettled={settled} />}
      </Modal>
    </Stack>
  );
}

function SettlementCell({ settlement, zone }: { settlement: NonNullable<Call["settlement"]>; zone: string }) {
  return (
    <Stack gap={2}>
      <Group gap="xs" wrap="nowrap">
        <Badge variant="light" color={OUTCOME_COLORS[settlement.outcome]} style={{ minWidth: "max-content" }}>
          {OUTCOME_LABELS[settlement.outcome]}
        </Badge>
        <Text size="sm" style={{ whiteSpace: "nowrap" }}>{formatMoney(settlement.amount.amount, settlement.amount.currency)}</Text>
      </Group>
      <Text size="xs" c="dimmed">
        At {tokensText(settlement.actual)}, by {settlement.settledBy}, {formatDateTime(settlement.settledAt, zone)}:{" "}
        {settlement.reason}
      </Text>
    </Stack>
  );
}

function SettleForm({ call, zone, onSettled }: { call: Call; zone: string; onSettled: () => void }) {
  const start = prefill(call);
  const [draft, setDraft] = useState<TokenDraft>(start.draft);
  const [reason, setReason] = useState("");
  const [billShortfall, setBillShortfall] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [state, settle] = useMutation(SettleEstimatedCall);

  function field(name: keyof TokenDraft) {
    return { value: draft[name], onChange: (e: ChangeEvent<HTMLInputElement>) => setDraft({ ...draft, [name]: e.currentTarget.value }) };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const input = settlementInput(draft, reason, billShortfall);
    if ("error" in input) return setProblem(input.error);
    const result = await settle({ usageRecordId: call.usageRecordId, ...input.value });
    const answer = result.data?.settleEstimatedCall;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "SettleEstimatedCallSuccess") setProblem(answer.message);
    else onSettled();
  }

  return (
    <form onSubmit={submit} data-testid="settle-form">
      <Stack>
        <Text size="sm">
          Started {formatDateTime(call.startedAt, zone)}, request {call.requestId}: estimated at {tokensText(call.estimated)},
          charged {formatMoney(call.charge.amount, call.charge.currency)}.
        </Text>
        <Text size="sm" c={start.source === "provider" ? "dimmed" : "orange"}>
          {start.source === "provider"
            ? "Filled in with what the provider's hour implies this call used (its reported tokens minus Bizgraph's other calls that hour). Check them against the provider's report."
            : "The provider's hour does not tell this call's tokens apart: filled in with the estimate. Type the provider's figures."}
        </Text>
        <SimpleGrid cols={{ base: 2, sm: 4 }}>
          <TextInput label="Input tokens" inputMode="numeric" required {...field("input")} />
          <TextInput label="Output tokens" inputMode="numeric" required {...field("output")} />
          <TextInput label="Cached input" description="part of the input" inputMode="numeric" {...field("cachedInput")} />
          <TextInput label="Cache write" description="part of the input" inputMode="numeric" {...field("cacheWrite")} />
        </SimpleGrid>
        <Textarea label="Reason" description="Kept with the settlement and shown on the credit or invoice line" required
          autosize minRows={2} maxLength={300} value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
        <Checkbox label="Bill an under-estimate to the client" checked={billShortfall}
          description="Otherwise the agency absorbs it. An over-estimate always goes back to the client."
          onChange={(e) => setBillShortfall(e.currentTarget.checked)} />
        <MutationError message={problem} />
        <Group justify="flex-end">
          <Button type="submit" loading={state.fetching}>Settle the call</Button>
        </Group>
      </Stack>
    </form>
  );
}
