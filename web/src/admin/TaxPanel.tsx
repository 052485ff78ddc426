// A client's tax treatment and billing details (docs/tax.md): owners and admins edit them,
// viewers read. Every check is the API's; its messages are shown as they are.
import { Button, Group, Paper, Select, SimpleGrid, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { ClientTaxFieldsFragment } from "../gql/graphql";
import { ErrorState, Loading, MutationError } from "../shared/states";
import { TREATMENTS, addressInput, optional, printedAddress, treatmentLabel, type Treatment } from "../shared/tax";

export const ClientTaxFields = graphql(`
  fragment ClientTaxFields on ClientTax {
    clientId
    treatment
    customRate
    exemptReason
    billingDetails {
      legalName
      taxId
      poReference
      address { lines city postalCode region country }
    }
  }
`);

const ClientTaxQuery = graphql(`
  query ClientTax($clientId: ID!) {
    clientTax(clientId: $clientId) { ...ClientTaxFields }
  }
`);

const SetTreatment = graphql(`
  mutation SetClientTaxTreatment($clientId: ID!, $treatment: TaxTreatment!, $exemptReason: String) {
    setClientTaxTreatment(clientId: $clientId, treatment: $treatment, exemptReason: $exemptReason) {
      __typename
      ... on ClientTaxSuccess { clientTax { ...ClientTaxFields } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const SetDetails = graphql(`
  mutation SetClientBillingDetails($clientId: ID!, $details: BillingDetailsInput!) {
    setClientBillingDetails(clientId: $clientId, details: $details) {
      __typename
      ... on ClientTaxSuccess { clientTax { ...ClientTaxFields } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

export function TaxPanel({ clientId, writable }: { clientId: string; writable: boolean }) {
  const [{ data, fetching, error }, reload] = useQuery({ query: ClientTaxQuery, variables: { clientId } });
  if (fetching && !data) return <Loading what="tax and billing details" />;
  if (error || !data) return <ErrorState error={error!} retry={() => reload()} />;
  const tax = data.clientTax;
  if (!tax) return null;
  const refresh = () => reload({ requestPolicy: "network-only" });
  return (
    <Paper withBorder p="md" data-testid="client-tax">
      <Stack>
        <Title order={4}>Tax and billing details</Title>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <TreatmentForm tax={tax} writable={writable} onChange={refresh} />
          <DetailsForm tax={tax} writable={writable} onChange={refresh} />
        </SimpleGrid>
      </Stack>
    </Paper>
  );
}

function TreatmentForm({ tax, writable, onChange }: { tax: ClientTaxFieldsFragment; writable: boolean; onChange: () => void }) {
  const [treatment, setTreatment] = useState<Treatment>(tax.treatment as Treatment);
  const [reason, setReason] = useState(tax.exemptReason ?? "");
  const [problem, setProblem] = useState<string | null>(null);
  const [state, save] = useMutation(SetTreatment);
  useEffect(() => setTreatment(tax.treatment as Treatment), [tax.treatment]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await save({ clientId: tax.clientId, treatment, exemptReason: optional(reason) });
    const answer = result.data?.setClientTaxTreatment;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "ClientTaxSuccess") setProblem(answer.message);
    else onChange();
  }

  const current = (
    <Text size="sm">
      {treatmentLabel(tax.treatment)}
      {tax.treatment === "CUSTOM" ? `: ${tax.customRate}% (the client's tax rate)` : ""}
      {tax.exemptReason ? `: ${tax.exemptReason}` : ""}
    </Text>
  );
  if (!writable) return <Stack gap="xs"><Text fw={500}>Tax treatment</Text>{current}</Stack>;
  return (
    <form onSubmit={submit}>
      <Stack gap="xs">
        <Text fw={500}>Tax treatment</Text>
        {current}
        <Select label="Treatment" data={TREATMENTS.map((value) => ({ value, label: treatmentLabel(value) }))}
          value={treatment} onChange={(value) => value && setTreatment(value as Treatment)} allowDeselect={false} />
        {treatment === "EXEMPT" && (
          <TextInput label="Exemption reason (printed)" value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
        )}
        <Text size="xs" c="dimmed">
          Standard needs the client's country, reverse charge its tax id (billing details). The custom percent is
          the client's tax rate, set on its edit page.
        </Text>
        <Group><Button type="submit" variant="light" loading={state.fetching}>Save treatment</Button></Group>
        <MutationError message={problem} />
      </Stack>
    </form>
  );
}

function DetailsForm({ tax, writable, onChange }: { tax: ClientTaxFieldsFragment; writable: boolean; onChange: () => void }) {
  const given = tax.billingDetails;
  const [form, setForm] = useState({
    legalName: given?.legalName ?? "",
    lines: given?.address.lines.join("\n") ?? "",
    city: given?.address.city ?? "",
    postalCode: given?.address.postalCode ?? "",
    region: given?.address.region ?? "",
    country: given?.address.country ?? "",
    taxId: given?.taxId ?? "",
    poReference: given?.poReference ?? "",
  });
  const [problem, setProblem] = useState<string | null>(null);
  const [state, save] = useMutation(SetDetails);
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const details = {
      legalName: form.legalName.trim(),
      address: addressInput(form),
      taxId: optional(form.taxId),
      poReference: optional(form.poReference),
    };
    const result = await save({ clientId: tax.clientId, details });
    const answer = result.data?.setClientBillingDetails;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "ClientTaxSuccess") setProblem(answer.message);
    else onChange();
  }

  if (!writable) {
    return (
      <Stack gap={2}>
        <Text fw={500}>Billing details</Text>
        {given ? (
          <>
            <Text size="sm">{given.legalName}</Text>
            {printedAddress(given.address).map((line) => <Text size="sm" key={line}>{line}</Text>)}
            {given.taxId && <Text size="sm">Tax id: {given.taxId}</Text>}
            {given.poReference && <Text size="sm">Purchase order: {given.poReference}</Text>}
          </>
        ) : (
          <Text size="sm" c="dimmed">None: invoices show the client's name and billing email.</Text>
        )}
      </Stack>
    );
  }
  return (
    <form onSubmit={submit}>
      <Stack gap="xs">
        <Text fw={500}>Billing details</Text>
        <TextInput label="Legal name" value={form.legalName} onChange={set("legalName")} />
        <Textarea label="Address lines (one per line, at most 4)" autosize minRows={2} value={form.lines} onChange={set("lines")} />
        <Group grow>
          <TextInput label="Postal code" value={form.postalCode} onChange={set("postalCode")} />
          <TextInput label="City" value={form.city} onChange={set("city")} />
        </Group>
        <Group grow>
          <TextInput label="Region" value={form.region} onChange={set("region")} />
          <TextInput label="Country (2 letters)" value={form.country} onChange={set("country")} maxLength={2} />
        </Group>
        <Group grow>
          <TextInput label="Tax id (VAT number)" value={form.taxId} onChange={set("taxId")} />
          <TextInput label="Purchase-order reference" value={form.poReference} onChange={set("poReference")} />
        </Group>
        <Group><Button type="submit" variant="light" loading={state.fetching}>Save billing details</Button></Group>
        <MutationError message={problem} />
      </Stack>
    </form>
  );
}
