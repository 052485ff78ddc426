// A client's prepaid wallet: mode, balance and statement for everyone who may see the client;
// for owners and admins the mode switch, top-up, adjustment and settings forms; for the client
// portal a top-up button through the payment page, disabled without a payment processor.
import { Badge, Button, Checkbox, Group, Paper, SegmentedControl, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { BillingMode } from "../gql/graphql";
import { Figure } from "./Figure";
import { formatDateTime, formatMoney, isNegative } from "./format";
import { goTo } from "./navigation";
import { ErrorState, Loading, MutationError } from "./states";
import { entryKindLabel, optionalAmount, topUpState } from "./wallets";

const PAGE = 20;

const WalletQuery = graphql(`
  query Wallet($clientId: ID!, $offset: Int!, $limit: Int!) {
    wallet(clientId: $clientId) {
      mode
      currency
      balance { amount currency }
      held { amount currency }
      available { amount currency }
      paymentsConfigured
      settings { lowBalance lowBalanceDays autoTopUpBelow autoTopUpAmount overdrawFixed }
      statement(offset: $offset, limit: $limit) {
        total
        entries { id kind amount { amount currency } reference source note occurredAt }
      }
    }
  }
`);

const SetMode = graphql(`
  mutation SetBillingMode($clientId: ID!, $mode: BillingMode!) {
    setBillingMode(clientId: $clientId, mode: $mode) {
      __typename
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const TopUp = graphql(`
  mutation TopUpWallet($clientId: ID!, $amount: Decimal!, $reference: String, $note: String!) {
    topUpWallet(clientId: $clientId, amount: $amount, reference: $reference, note: $note) {
      __typename
      ... on TopUpSuccess { credited }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const Adjust = graphql(`
  mutation AdjustWallet($clientId: ID!, $amount: Decimal!, $reason: String!) {
    adjustWallet(clientId: $clientId, amount: $amount, reason: $reason) {
      __typename
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const SetSettings = graphql(`
  mutation SetWalletSettings($clientId: ID!, $input: WalletSettingsInput!) {
    setWalletSettings(clientId: $clientId, input: $input) {
      __typename
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const StartTopUp = graphql(`
  mutation StartWalletTopUp($amount: Decimal!) {
    startWalletTopUp(amount: $amount) {
      __typename
      ... on StartTopUpSuccess { url }
      ... on ValidationError { message }
      ... on NotFoundError { message }
      ... on NotAllowedError { message }
    }
  }
`);

type Answer = { __typename: string; message?: string } | null | undefined;

function problemOf(error: { message: string } | undefined, answer: Answer, ok: string): string | null {
  if (error) return error.message;
  if (answer && answer.__typename !== ok) return answer.message ?? "refused";
  return null;
}

export function WalletPanel({
  clientId,
  zone,
  writable,
  portal = false,
}: {
  clientId: string;
  zone: string;
  writable: boolean;
  portal?: boolean;
}) {
  const [offset, setOffset] = useState(0);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: WalletQuery,
    variables: { clientId, offset, limit: PAGE },
    requestPolicy: "cache-and-network",
  });
  const refresh = () => refetch({ requestPolicy: "network-only" });
  if (error && !data) return <ErrorState error={error} retry={refresh} />;
  if (!data?.wallet) return fetching ? <Loading what="the wallet" /> : null;
  const wallet = data.wallet;
  const statement = wallet.statement;
  const currency = wallet.currency;

  return (
    <Paper withBorder p="md" data-testid="wallet-panel">
      <Stack>
        <Group justify="space-between">
          <Title order={4}>Wallet</Title>
          <Badge color={wallet.mode === "PREPAID" ? "blue" : "gray"} data-testid="wallet-mode">
            {wallet.mode === "PREPAID" ? "prepaid" : "postpaid"}
          </Badge>
        </Group>
        {wallet.mode === "POSTPAID" && (
          <Text c="dimmed" size="sm">
            {portal
              ? "Your calls are billed on your monthly invoice."
              : "Postpaid: calls are billed on the monthly invoice. Switch to prepaid to have calls draw down this wallet."}
          </Text>
        )}
        <Group grow>
          <Figure label="Balance" value={formatMoney(wallet.balance.amount, currency)} testId="wallet-balance"
            tone={isNegative(wallet.balance.amount) ? "loss" : undefined} />
          <Figure label="Held by calls in flight" value={formatMoney(wallet.held.amount, currency)} testId="wallet-held" />
          <Figure label="Available" value={formatMoney(wallet.available.amount, currency)} testId="wallet-available" />
        </Group>
        {writable && !portal && (
          <OperatorForms clientId={clientId} currency={currency} mode={wallet.mode} settings={wallet.settings}
            paymentsConfigured={wallet.paymentsConfigured} onChange={refresh} />
        )}
        {portal && wallet.mode === "PREPAID" && (
          <PortalTopUp currency={currency} paymentsConfigured={wallet.paymentsConfigured} />
        )}
        <Title order={5}>Statement</Title>
        {statement.total === 0 ? (
          <Text c="dimmed">No movement yet.</Text>
        ) : (
          <Table data-testid="wallet-statement">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>What</Table.Th>
                <Table.Th>Reference</Table.Th>
                <Table.Th>Note</Table.Th>
                <Table.Th ta="right">Amount</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {statement.entries.map((entry) => (
                <Table.Tr key={entry.id}>
                  <Table.Td>{formatDateTime(entry.occurredAt, zone)}</Table.Td>
                  <Table.Td>{entryKindLabel(entry.kind)}</Table.Td>
                  <Table.Td>{entry.reference}</Table.Td>
                  <Table.Td>{entry.note}</Table.Td>
                  <Table.Td ta="right">{formatMoney(entry.amount.amount, entry.amount.currency)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {statement.total > PAGE && (
          <Group>
            <Button variant="subtle" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Newer</Button>
            <Text size="sm" c="dimmed">
              {offset + 1}-{Math.min(offset + PAGE, statement.total)} of {statement.total}
            </Text>
            <Button variant="subtle" disabled={offset + PAGE >= statement.total} onClick={() => setOffset(offset + PAGE)}>Older</Button>
          </Group>
        )}
      </Stack>
    </Paper>
  );
}

function OperatorForms({
  clientId,
  currency,
  mode,
  settings,
  paymentsConfigured,
  onChange,
}: {
  clientId: string;
  currency: string;
  mode: BillingMode;
  settings: {
    lowBalance?: string | null;
    lowBalanceDays?: number | null;
    autoTopUpBelow?: string | null;
    autoTopUpAmount?: string | null;
    overdrawFixed: boolean;
  };
  paymentsConfigured: boolean;
  onChange: () => void;
}) {
  const [problem, setProblem] = useState<string | null>(null);
  const [amount, setAmount] = useState("");
  const [reference, setReference] = useState("");
  const [note, setNote] = useState("");
  const [adjustment, setAdjustment] = useState("");
  const [reason, setReason] = useState("");
  const [low, setLow] = useState(settings.lowBalance ?? "");
  const [lowDays, setLowDays] = useState(settings.lowBalanceDays ? String(settings.lowBalanceDays) : "");
  const [autoBelow, setAutoBelow] = useState(settings.autoTopUpBelow ?? "");
  const [autoAmount, setAutoAmount] = useState(settings.autoTopUpAmount ?? "");
  const [overdraw, setOverdraw] = useState(settings.overdrawFixed);
  const [, setMode] = useMutation(SetMode);
  const [topUpState_, topUp] = useMutation(TopUp);
  const [adjustState, adjust] = useMutation(Adjust);
  const [settingsState, saveSettings] = useMutation(SetSettings);

  async function changeMode(next: string) {
    setProblem(null);
    const result = await setMode({ clientId, mode: next as BillingMode });
    setProblem(problemOf(result.error, result.data?.setBillingMode, "WalletSuccess"));
    onChange();
  }

  async function submitTopUp(event: FormEvent) {
    event.preventDefault();
    const result = await topUp({ clientId, amount: amount.trim(), reference: optionalAmount(reference), note });
    const failed = problemOf(result.error, result.data?.topUpWallet, "TopUpSuccess");
    setProblem(failed);
    if (!failed) {
      if (result.data?.topUpWallet?.__typename === "TopUpSuccess" && !result.data.topUpWallet.credited) {
        setProblem("This reference was credited already: nothing added.");
      }
      setAmount("");
      setReference("");
      setNote("");
      onChange();
    }
  }

  async function submitAdjustment(event: FormEvent) {
    event.preventDefault();
    const result = await adjust({ clientId, amount: adjustment.trim(), reason: reason.trim() });
    const failed = problemOf(result.error, result.data?.adjustWallet, "AdjustWalletSuccess");
    setProblem(failed);
    if (!failed) {
      setAdjustment("");
      setReason("");
      onChange();
    }
  }

  async function submitSettings(event: FormEvent) {
    event.preventDefault();
    const input = {
      lowBalance: optionalAmount(low),
      lowBalanceDays: lowDays.trim() ? Number(lowDays.trim()) : null,
      autoTopUpBelow: optionalAmount(autoBelow),
      autoTopUpAmount: optionalAmount(autoAmount),
      overdrawFixed: overdraw,
    };
    const result = await saveSettings({ clientId, input });
    setProblem(problemOf(result.error, result.data?.setWalletSettings, "WalletSuccess"));
    onChange();
  }

  return (
    <Stack>
      <Group>
        <Text size="sm">Billing mode</Text>
        <SegmentedControl value={mode} onChange={changeMode} data-testid="wallet-mode-switch"
          data={[{ value: "POSTPAID", label: "Postpaid" }, { value: "PREPAID", label: "Prepaid" }]} />
      </Group>
      <form onSubmit={submitTopUp}>
        <Group align="flex-end">
          <TextInput label={`Top-up (${currency})`} value={amount} onChange={(e) => setAmount(e.currentTarget.value)} required />
          <TextInput label="Top-up reference" placeholder="the payment's, optional" value={reference}
            onChange={(e) => setReference(e.currentTarget.value)} />
          <TextInput label="Top-up note" value={note} onChange={(e) => setNote(e.currentTarget.value)} />
          <Button type="submit" variant="light" loading={topUpState_.fetching}>Top up</Button>
        </Group>
      </form>
      <form onSubmit={submitAdjustment}>
        <Group align="flex-end">
          <TextInput label={`Adjustment (${currency}, signed)`} value={adjustment}
            onChange={(e) => setAdjustment(e.currentTarget.value)} required />
          <TextInput label="Adjustment reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} required />
          <Button type="submit" variant="light" loading={adjustState.fetching}>Post adjustment</Button>
        </Group>
      </form>
      <form onSubmit={submitSettings}>
        <Group align="flex-end">
          <TextInput label="Alert under" value={low} onChange={(e) => setLow(e.currentTarget.value)} w={110} />
          <TextInput label="or under days of spend" value={lowDays} onChange={(e) => setLowDays(e.currentTarget.value)} w={150} />
          <TextInput label="Auto top-up under" value={autoBelow} disabled={!paymentsConfigured}
            onChange={(e) => setAutoBelow(e.currentTarget.value)} w={140} />
          <TextInput label="Auto top-up amount" value={autoAmount} disabled={!paymentsConfigured}
            onChange={(e) => setAutoAmount(e.currentTarget.value)} w={150} />
          <Checkbox label="Overdraw for fixed amounts (else suspend)" checked={overdraw}
            onChange={(e) => setOverdraw(e.currentTarget.checked)} />
          <Button type="submit" variant="light" loading={settingsState.fetching}>Save settings</Button>
        </Group>
        {!paymentsConfigured && (
          <Text size="xs" c="dimmed">Auto top-up needs a payment processor; none is configured.</Text>
        )}
      </form>
      <MutationError message={problem} />
    </Stack>
  );
}

function PortalTopUp({ currency, paymentsConfigured }: { currency: string; paymentsConfigured: boolean }) {
  const [amount, setAmount] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [state, start] = useMutation(StartTopUp);
  const button = topUpState(paymentsConfigured, amount);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await start({ amount: amount.trim() });
    const answer = result.data?.startWalletTopUp;
    if (answer?.__typename === "StartTopUpSuccess") goTo(answer.url);
    else setProblem(problemOf(result.error, answer, "StartTopUpSuccess"));
  }

  return (
    <form onSubmit={submit}>
      <Group align="flex-end">
        <TextInput label={`Top up (${currency})`} value={amount} disabled={!paymentsConfigured}
          onChange={(e) => setAmount(e.currentTarget.value)} />
        <Button type="submit" disabled={!button.enabled} loading={state.fetching} data-testid="wallet-top-up">
          Top up
        </Button>
      </Group>
      {button.reason && <Text size="xs" c="dimmed">{button.reason}</Text>}
      <MutationError message={problem} />
    </form>
  );
}
