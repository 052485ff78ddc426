// Settings: the agency profile printed on every invoice and the tax rates table (docs/tax.md).
// Owners and admins edit, viewers read; the API's validation messages are shown as they are.
import { Button, Group, NumberInput, Paper, Stack, Table, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { AgencyProfileFieldsFragment } from "../gql/graphql";
import { ErrorState, Loading, MutationError } from "../shared/states";
import { addressInput, optional, printedAddress } from "../shared/tax";
import { ExchangeRatesPanel } from "./ExchangeRatesPanel";
import { canWrite, useSession } from "./session";

export const AgencyProfileFields = graphql(`
  fragment AgencyProfileFields on AgencyProfile {
    legalName
    taxId
    bankDetails
    paymentTermsDays
    paymentTermsText
    address { lines city postalCode region country }
  }
`);

const SettingsQuery = graphql(`
  query TaxSettings {
    agencyProfile { ...AgencyProfileFields }
    taxRates { country region percent effectiveFrom }
  }
`);

const SetAgency = graphql(`
  mutation SetAgencyProfile($profile: AgencyProfileInput!) {
    setAgencyProfile(profile: $profile) {
      __typename
      ... on AgencyProfileSuccess { agencyProfile { ...AgencyProfileFields } }
      ... on ValidationError { message }
    }
  }
`);

const SetRate = graphql(`
  mutation SetTaxRate($country: String!, $region: String!, $percent: Decimal!, $effectiveFrom: Date!) {
    setTaxRate(country: $country, region: $region, percent: $percent, effectiveFrom: $effectiveFrom) {
      __typename
      ... on TaxRateSuccess { rate { country } }
      ... on ValidationError { message }
    }
  }
`);

const RemoveRate = graphql(`
  mutation RemoveTaxRate($country: String!, $region: String!, $effectiveFrom: Date!) {
    removeTaxRate(country: $country, region: $region, effectiveFrom: $effectiveFrom) {
      __typename
      ... on RemoveTaxRateSuccess { removed }
      ... on ValidationError { message }
    }
  }
`);

export function SettingsPage() {
  const session = useSession();
  const writable = canWrite(session);
  const [{ data, fetching, error }, reload] = useQuery({ query: SettingsQuery });
  if (fetching && !data) return <Loading what="settings" />;
  if (error || !data) return <ErrorState error={error!} retry={() => reload()} />;
  const refresh = () => reload({ requestPolicy: "network-only" });
  return (
    <Stack>
      <Title order={2}>Settings</Title>
      <AgencyForm profile={data.agencyProfile ?? null} writable={writable} onChange={refresh} />
      <RatesTable rates={data.taxRates} writable={writable} onChange={refresh} />
      <ExchangeRatesPanel writable={writable} />
    </Stack>
  );
}

function AgencyForm({ profile, writable, onChange }: {
  profile: AgencyProfileFieldsFragment | null;
  writable: boolean;
  onChange: () => void;
}) {
  const [form, setForm] = useState({
    legalName: profile?.legalName ?? "",
    lines: profile?.address.lines.join("\n") ?? "",
    city: profile?.address.city ?? "",
    postalCode: profile?.address.postalCode ?? "",
    region: profile?.address.region ?? "",
    country: profile?.address.country ?? "",
    taxId: profile?.taxId ?? "",
    bankDetails: profile?.bankDetails ?? "",
    paymentTermsText: profile?.paymentTermsText ?? "",
  });
  const [days, setDays] = useState<number | string>(profile?.paymentTermsDays ?? "");
  const [problem, setProblem] = useState<string | null>(null);
  const [state, save] = useMutation(SetAgency);
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await save({
      profile: {
        legalName: form.legalName.trim(),
        address: addressInput(form),
        taxId: optional(form.taxId),
        bankDetails: form.bankDetails.trim(),
        paymentTermsDays: days === "" ? null : Number(days),
        paymentTermsText: form.paymentTermsText.trim(),
      },
    });
    const answer = result.data?.setAgencyProfile;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "AgencyProfileSuccess") setProblem(answer.message);
    else onChange();
  }

  return (
    <Paper withBorder p="md" data-testid="agency-profile">
      <Stack gap="xs">
        <Title order={4}>Agency profile (printed on invoices)</Title>
        {!profile && (
          <Text size="sm" c="dimmed">
            No profile yet: invoices show BIZGRAPH_AGENCY_NAME and BIZGRAPH_AGENCY_ADDRESS. Issued invoices keep the
            profile in force when they were finalized.
          </Text>
        )}
        {!writable ? (
          profile && (
            <Stack gap={2}>
              <Text size="sm">{profile.legalName}</Text>
              {printedAddress(profile.address).map((line) => <Text size="sm" key={line}>{line}</Text>)}
              {profile.taxId && <Text size="sm">Tax id: {profile.taxId}</Text>}
              {profile.bankDetails && <Text size="sm">{profile.bankDetails}</Text>}
              <Text size="sm">
                Payment terms: {profile.paymentTermsDays ?? "default"} days. {profile.paymentTermsText}
              </Text>
            </Stack>
          )
        ) : (
          <form onSubmit={submit}>
            <Stack gap="xs">
              <TextInput label="Legal name" value={form.legalName} onChange={set("legalName")} required />
              <Textarea label="Address lines (one per line)" autosize minRows={2} value={form.lines} onChange={set("lines")} />
              <Group grow>
                <TextInput label="Postal code" value={form.postalCode} onChange={set("postalCode")} />
                <TextInput label="City" value={form.city} onChange={set("city")} />
                <TextInput label="Region" value={form.region} onChange={set("region")} />
                <TextInput label="Country (2 letters)" value={form.country} onChange={set("country")} maxLength={2} />
              </Group>
              <TextInput label="Tax id (VAT number)" value={form.taxId} onChange={set("taxId")} />
              <Textarea label="Bank details (IBAN/BIC or free text)" autosize minRows={2} value={form.bankDetails}
                onChange={set("bankDetails")} />
              <Group grow>
                <NumberInput label="Payment terms (days to due date)" value={days} onChange={setDays} allowDecimal={false} />
                <TextInput label="Payment terms (printed)" value={form.paymentTermsText} onChange={set("paymentTermsText")} />
              </Group>
              <Group><Button type="submit" loading={state.fetching}>Save agency profile</Button></Group>
              <MutationError message={problem} />
            </Stack>
          </form>
        )}
      </Stack>
    </Paper>
  );
}

interface Rate {
  country: string;
  region: string;
  percent: string;
  effectiveFrom: string;
}

function RatesTable({ rates, writable, onChange }: { rates: readonly Rate[]; writable: boolean; onChange: () => void }) {
  const [form, setForm] = useState({ country: "", region: "", percent: "", effectiveFrom: "" });
  const [problem, setProblem] = useState<string | null>(null);
  const [state, save] = useMutation(SetRate);
  const [, remove] = useMutation(RemoveRate);
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await save({
      country: form.country.trim(),
      region: form.region.trim(),
      percent: form.percent.trim(),
      effectiveFrom: form.effectiveFrom,
    });
    const answer = result.data?.setTaxRate;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "TaxRateSuccess") setProblem(answer.message);
    else {
      setForm({ country: "", region: "", percent: "", effectiveFrom: "" });
      onChange();
    }
  }

  async function drop(rate: Rate) {
    setProblem(null);
    const result = await remove({ country: rate.country, region: rate.region, effectiveFrom: rate.effectiveFrom });
    const answer = result.data?.removeTaxRate;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "RemoveTaxRateSuccess") setProblem(answer.message);
    else onChange();
  }

  return (
    <Paper withBorder p="md">
      <Stack gap="xs">
        <Title order={4}>Tax rates</Title>
        <Text size="sm" c="dimmed">
          Used by clients with the standard treatment: a region's own rate wins over its country's, the latest
          effective on the invoice's issue day applies. A client whose country has no rate is not invoiced (an alert
          says so) until one is added.
        </Text>
        {rates.length === 0 ? (
          <Text size="sm">No rates yet.</Text>
        ) : (
          <Table data-testid="tax-rates">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Country</Table.Th>
                <Table.Th>Region</Table.Th>
                <Table.Th ta="right">Percent</Table.Th>
                <Table.Th>Effective from</Table.Th>
                {writable && <Table.Th />}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rates.map((rate) => (
                <Table.Tr key={`${rate.country}/${rate.region}/${rate.effectiveFrom}`}>
                  <Table.Td>{rate.country}</Table.Td>
                  <Table.Td>{rate.region || "whole country"}</Table.Td>
                  <Table.Td ta="right">{rate.percent}%</Table.Td>
                  <Table.Td>{rate.effectiveFrom}</Table.Td>
                  {writable && (
                    <Table.Td>
                      <Button size="xs" variant="subtle" color="red" onClick={() => void drop(rate)}>Remove</Button>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {writable && (
          <form onSubmit={submit}>
            <Group align="flex-end">
              <TextInput label="Country" placeholder="DE" value={form.country} onChange={set("country")} maxLength={2} required />
              <TextInput label="Region (optional)" value={form.region} onChange={set("region")} />
              <TextInput label="Percent" placeholder="19" value={form.percent} onChange={set("percent")} required />
              <TextInput label="Effective from" type="date" value={form.effectiveFrom} onChange={set("effectiveFrom")} required />
              <Button type="submit" variant="light" loading={state.fetching}>Add rate</Button>
            </Group>
          </form>
        )}
        <MutationError message={problem} />
      </Stack>
    </Paper>
  );
}
