// Exchange rates (docs/currencies.md): the dated rates table on the Settings page (set one, import
// the ECB reference file the user downloaded), a client's billing currency on its page, and the
// overview's totals in the reporting currency. The API's validation messages are shown as they are.
import { Button, Group, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type ChangeEvent, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import { formatMoney, formatRatio } from "../shared/format";
import { bases, currencyCode, rateLine } from "../shared/rates";
import { ErrorState, Loading, MutationError } from "../shared/states";

const RatesQuery = graphql(`
  query ExchangeRates {
    exchangeRates(limit: 200) { base quote rate effectiveOn source }
  }
`);

const SetExchangeRate = graphql(`
  mutation SetExchangeRate($base: String!, $quote: String!, $rate: Decimal!, $effectiveOn: Date!, $source: String!) {
    setExchangeRate(base: $base, quote: $quote, rate: $rate, effectiveOn: $effectiveOn, source: $source) {
      __typename
      ... on ExchangeRateSuccess { rate { base } }
      ... on ValidationError { message }
    }
  }
`);

const ImportExchangeRates = graphql(`
  mutation ImportExchangeRates($csv: String!, $bases: [String!]) {
    importExchangeRates(csv: $csv, bases: $bases) {
      __typename
      ... on ImportExchangeRatesSuccess { written days firstDay lastDay }
      ... on ValidationError { message }
    }
  }
`);

const SetClientCurrency = graphql(`
  mutation SetClientCurrency($clientId: ID!, $currency: String!) {
    setClientCurrency(clientId: $clientId, currency: $currency) {
      __typename
      ... on ClientSuccess { client { id currency } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
      ... on ConflictError { message }
    }
  }
`);

const ReportingQuery = graphql(`
  query OverviewReporting($period: String) {
    overview(period: $period) {
      inReportingCurrency {
        currency
        revenue { amount currency }
        cost { amount currency }
        profit { amount currency }
        margin
        rates { base quote rate effectiveOn source }
        problem
      }
    }
  }
`);

const MAX_FILE_BYTES = 8 * 1024 * 1024;

export function ExchangeRatesPanel({ writable }: { writable: boolean }) {
  const [{ data, fetching, error }, reload] = useQuery({ query: RatesQuery });
  const [form, setForm] = useState({ base: "USD", quote: "", rate: "", effectiveOn: "", source: "manual" });
  const [importBases, setImportBases] = useState("USD");
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [state, save] = useMutation(SetExchangeRate);
  const [importing, runImport] = useMutation(ImportExchangeRates);
  const refresh = () => reload({ requestPolicy: "network-only" });
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setNotice(null);
    const result = await save({
      base: currencyCode(form.base),
      quote: currencyCode(form.quote),
      rate: form.rate.trim(),
      effectiveOn: form.effectiveOn,
      source: form.source.trim() || "manual",
    });
    const answer = result.data?.setExchangeRate;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "ExchangeRateSuccess") setProblem(answer.message);
    else {
      setForm({ ...form, quote: "", rate: "" });
      refresh();
    }
  }

  async function importFile(event: ChangeEvent<HTMLInputElement>) {
    setProblem(null);
    setNotice(null);
    const file = event.currentTarget.files?.[0];
    event.currentTarget.value = "";
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      setProblem("The file is larger than 8 MB.");
      return;
    }
    const result = await runImport({ csv: await file.text(), bases: bases(importBases) });
    const answer = result.data?.importExchangeRates;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "ImportExchangeRatesSuccess") setProblem(answer.message);
    else if (answer) {
      setNotice(`Imported ${answer.written} rates for ${answer.days} days (${answer.firstDay} to ${answer.lastDay}).`);
      refresh();
    }
  }

  if (fetching && !data) return <Loading what="exchange rates" />;
  if (error || !data) return <ErrorState error={error!} retry={refresh} />;
  const rates = data.exchangeRates;
  return (
    <Paper withBorder p="md" data-testid="exchange-rates">
      <Stack gap="xs">
        <Title order={4}>Exchange rates</Title>
        <Text size="sm" c="dimmed">
          1 base = rate quote, in force from its day until the pair's next rate. A call converts at the rate of the
          day it started, a monthly fixed amount at the period's first day; invoices state the rates they used. A
          client whose usage has no rate is not invoiced (an alert says so) until one is added.
        </Text>
        {rates.length === 0 ? (
          <Text size="sm">No rates yet.</Text>
        ) : (
          <Table data-testid="exchange-rate-rows">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Pair</Table.Th>
                <Table.Th ta="right">Rate</Table.Th>
                <Table.Th>Effective on</Table.Th>
                <Table.Th>Source</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rates.map((rate) => (
                <Table.Tr key={`${rate.base}/${rate.quote}/${rate.effectiveOn}`} title={rateLine(rate)}>
                  <Table.Td>{rate.base} → {rate.quote}</Table.Td>
                  <Table.Td ta="right">{rate.rate}</Table.Td>
                  <Table.Td>{rate.effectiveOn}</Table.Td>
                  <Table.Td>{rate.source}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {writable && (
          <>
            <form onSubmit={submit}>
              <Group align="flex-end">
                <TextInput label="Base" value={form.base} onChange={set("base")} maxLength={3} required w={80} />
                <TextInput label="Quote" placeholder="EUR" value={form.quote} onChange={set("quote")} maxLength={3} required w={80} />
                <TextInput label="Rate" placeholder="0.9234" value={form.rate} onChange={set("rate")} required />
                <TextInput label="Effective on" type="date" value={form.effectiveOn} onChange={set("effectiveOn")} required />
                <TextInput label="Source" value={form.source} onChange={set("source")} />
                <Button type="submit" variant="light" loading={state.fetching}>Set rate</Button>
              </Group>
            </form>
            <Group align="flex-end">
              <TextInput label="Import bases" description="ECB file: eurofxref.csv or eurofxref-hist.csv" value={importBases}
                onChange={(e) => setImportBases(e.currentTarget.value)} />
              <Button component="label" variant="light" loading={importing.fetching}>
                Import ECB file
                <input type="file" accept=".csv,text/csv" hidden onChange={(e) => void importFile(e)} data-testid="ecb-file" />
              </Button>
            </Group>
          </>
        )}
        {notice && <Text size="sm" c="green">{notice}</Text>}
        <MutationError message={problem} />
      </Stack>
    </Paper>
  );
}

export function ClientCurrency({ clientId, currency, writable, onChange }: {
  clientId: string;
  currency: string;
  writable: boolean;
  onChange: () => void;
}) {
  const [value, setValue] = useState(currency);
  const [problem, setProblem] = useState<string | null>(null);
  const [state, save] = useMutation(SetClientCurrency);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await save({ clientId, currency: currencyCode(value) });
    const answer = result.data?.setClientCurrency;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "ClientSuccess") setProblem(answer.message);
    else onChange();
  }

  return (
    <Paper withBorder p="md" data-testid="client-currency">
      <Stack gap="xs">
        <Title order={4}>Billing currency: {currency}</Title>
        <Text size="sm" c="dimmed">
          Invoices, budgets and the wallet are in this currency; usage priced in another converts at the rates on the
          Settings page. It can change only before anything is billed or paid.
        </Text>
        {writable && (
          <form onSubmit={submit}>
            <Group align="flex-end">
              <TextInput label="Currency (ISO 4217)" value={value} onChange={(e) => setValue(e.currentTarget.value)}
                maxLength={3} required w={160} />
              <Button type="submit" variant="light" loading={state.fetching}>Change</Button>
            </Group>
          </form>
        )}
        <MutationError message={problem} />
      </Stack>
    </Paper>
  );
}

export function ReportingTotals({ period }: { period: string }) {
  const [{ data, error }] = useQuery({ query: ReportingQuery, variables: { period } });
  if (error) return null; // the overview itself shows the error (a missing rate names itself there)
  const totals = data?.overview.inReportingCurrency;
  if (!totals) return null;
  return (
    <Paper withBorder p="md" data-testid="reporting-totals">
      <Stack gap={4}>
        <Title order={5}>In the reporting currency ({totals.currency})</Title>
        {totals.problem ? (
          <Text size="sm" c="red" data-testid="reporting-problem">{totals.problem}</Text>
        ) : (
          <>
            <Group gap="xl">
              {totals.revenue && <Text size="sm">Revenue <b>{formatMoney(totals.revenue.amount, totals.currency)}</b></Text>}
              {totals.cost && <Text size="sm">Cost <b>{formatMoney(totals.cost.amount, totals.currency)}</b></Text>}
              {totals.profit && <Text size="sm">Profit <b>{formatMoney(totals.profit.amount, totals.currency)}</b></Text>}
              <Text size="sm">Margin <b>{formatRatio(totals.margin)}</b></Text>
            </Group>
            {totals.rates.length > 0 && (
              <Text size="xs" c="dimmed">
                Converted at the period's first day: {totals.rates.map((r) => rateLine(r)).join("; ")}
              </Text>
            )}
          </>
        )}
      </Stack>
    </Paper>
  );
}
