// Create a client with its plan; edit a client's details; set a new plan version. Validation is
// the API's: its messages are shown as they come.
import { Anchor, Button, Checkbox, Group, Paper, SegmentedControl, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { PricingInput } from "../gql/graphql";
import { periodLabel, periodOf, startOfPeriod } from "../shared/format";
import { describePlan } from "../shared/plans";
import { Empty, ErrorState, Loading, MutationError } from "../shared/states";
import { canWrite, useSession } from "./session";

const CreateClient = graphql(`
  mutation CreateClient($input: CreateClientInput!) {
    createClient(input: $input) {
      __typename
      ... on ClientSuccess { client { id } }
      ... on ValidationError { message }
    }
  }
`);

const UpdateClient = graphql(`
  mutation UpdateClient($id: ID!, $input: UpdateClientInput!) {
    updateClient(id: $id, input: $input) {
      __typename
      ... on ClientSuccess { client { id name billingEmail taxRate } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const SetPricing = graphql(`
  mutation SetPricing($clientId: ID!, $pricing: PricingInput!, $effectiveFrom: DateTime) {
    setPricing(clientId: $clientId, pricing: $pricing, effectiveFrom: $effectiveFrom) {
      __typename
      ... on SetPricingSuccess { planVersion { id } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const EditQuery = graphql(`
  query ClientEdit($id: ID!) {
    client(id: $id) {
      id
      name
      currency
      billingEmail
      taxRate
      pricing {
        __typename
        ... on PercentageMargin { percent }
        ... on FixedFee { monthlyFee { amount currency } }
        ... on FixedPrice { monthlyPrice { amount currency } }
      }
    }
  }
`);

type PlanKind = "percentageMargin" | "fixedFee" | "fixedPrice";
const PLAN_CHOICES = [
  { value: "percentageMargin", label: "Margin on cost" },
  { value: "fixedFee", label: "Cost + monthly fee" },
  { value: "fixedPrice", label: "Fixed monthly price" },
];
const PLAN_FIELD: Record<PlanKind, { label: string; hint: string }> = {
  percentageMargin: { label: "Margin (%)", hint: "The client pays provider cost plus this percent, e.g. 30." },
  fixedFee: { label: "Monthly fee", hint: "The client pays provider cost at cost plus this fee each month." },
  fixedPrice: { label: "Monthly price", hint: "The client pays this each month, whatever its usage." },
};

function pricingInput(kind: PlanKind, value: string): PricingInput {
  const v = value.trim();
  switch (kind) {
    case "percentageMargin":
      return { percentageMargin: { percent: v } };
    case "fixedFee":
      return { fixedFee: { monthlyFee: v } };
    case "fixedPrice":
      return { fixedPrice: { monthlyPrice: v } };
  }
}

function PlanFields({
  kind,
  value,
  onKind,
  onValue,
  currency,
}: {
  kind: PlanKind;
  value: string;
  onKind: (kind: PlanKind) => void;
  onValue: (value: string) => void;
  currency: string;
}) {
  const field = PLAN_FIELD[kind];
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500} id="plan-label">
        Pricing plan
      </Text>
      <SegmentedControl aria-labelledby="plan-label" data={PLAN_CHOICES} value={kind}
        onChange={(v) => onKind(v as PlanKind)} />
      <TextInput
        label={kind === "percentageMargin" ? field.label : `${field.label} (${currency})`}
        description={field.hint}
        value={value}
        onChange={(e) => onValue(e.currentTarget.value)}
        inputMode="decimal"
        required
      />
    </Stack>
  );
}

/** An optional local date-time from the form as an ISO instant (the browser's offset). */
function instant(local: string): string | null {
  return local ? new Date(local).toISOString() : null;
}

export function NewClientPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [currency, setCurrency] = useState("USD");
  const [email, setEmail] = useState("");
  const [taxRate, setTaxRate] = useState("0");
  const [kind, setKind] = useState<PlanKind>("percentageMargin");
  const [value, setValue] = useState("");
  const [wholeMonth, setWholeMonth] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [state, create] = useMutation(CreateClient);
  const month = periodOf(new Date(), session.timeZone);

  if (!canWrite(session)) return <Text>Your role is read-only: ask an owner or admin to create clients.</Text>;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await create({
      input: {
        name: name.trim(),
        currency: currency.trim().toUpperCase(),
        billingEmail: email.trim() || null,
        taxRate: taxRate.trim() || "0",
        pricing: pricingInput(kind, value),
        // From midnight on the 1st in the agency's zone: bills the month's fixed amount whole.
        pricingEffectiveFrom: wholeMonth ? startOfPeriod(month, session.timeZone) : null,
      },
    });
    const answer = result.data?.createClient;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "ClientSuccess") navigate(`/clients/${answer.client.id}`);
    else if (answer) setProblem(answer.message);
  }

  return (
    <Paper withBorder p="lg" maw={640}>
      <form onSubmit={submit}>
        <Stack>
          <Title order={2}>New client</Title>
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} required autoFocus />
          <Group grow>
            <TextInput label="Currency" description="ISO 4217, e.g. USD" value={currency}
              onChange={(e) => setCurrency(e.currentTarget.value)} required />
            <TextInput label="Tax rate (%)" value={taxRate} onChange={(e) => setTaxRate(e.currentTarget.value)}
              inputMode="decimal" />
          </Group>
          <TextInput label="Billing email (optional)" type="email" value={email}
            onChange={(e) => setEmail(e.currentTarget.value)} />
          <PlanFields kind={kind} value={value} onKind={setKind} onValue={setValue} currency={currency || "USD"} />
          <Checkbox
            label={`Bill the whole of ${periodLabel(month)}: the plan applies from the 1st`}
            description="Otherwise it applies from now, and a monthly amount is prorated."
            checked={wholeMonth}
            onChange={(e) => setWholeMonth(e.currentTarget.checked)}
          />
          <MutationError message={problem} />
          <Group>
            <Button type="submit" loading={state.fetching}>
              Create client
            </Button>
            <Button variant="default" component={Link} to="/">
              Cancel
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

export function EditClientPage() {
  const { id = "" } = useParams();
  const session = useSession();
  const [{ data, fetching, error }, reload] = useQuery({ query: EditQuery, variables: { id } });
  if (fetching && !data) return <Loading what="the client" />;
  if (error && !data) return <ErrorState error={error} retry={() => reload({ requestPolicy: "network-only" })} />;
  const client = data?.client;
  if (!client) {
    return (
      <Empty title="No such client">
        <Anchor component={Link} to="/">Back to the overview</Anchor>
      </Empty>
    );
  }
  if (!canWrite(session)) return <Text>Your role is read-only.</Text>;
  return (
    <Stack maw={640}>
      <Group justify="space-between">
        <Title order={2}>Edit {client.name}</Title>
        <Anchor component={Link} to={`/clients/${client.id}`}>
          Back to the client
        </Anchor>
      </Group>
      <DetailsForm client={client} onSaved={() => reload({ requestPolicy: "network-only" })} />
      <PlanForm clientId={client.id} currency={client.currency} current={describePlan(client.pricing)}
        onSaved={() => reload({ requestPolicy: "network-only" })} />
    </Stack>
  );
}

function DetailsForm({
  client,
  onSaved,
}: {
  client: { id: string; name: string; billingEmail?: string | null; taxRate: string };
  onSaved: () => void;
}) {
  const [name, setName] = useState(client.name);
  const [email, setEmail] = useState(client.billingEmail ?? "");
  const [taxRate, setTaxRate] = useState(client.taxRate);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [state, update] = useMutation(UpdateClient);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setSaved(false);
    const result = await update({
      id: client.id,
      input: {
        name: name.trim(),
        taxRate: taxRate.trim(),
        billingEmail: email.trim() || null,
        clearBillingEmail: !email.trim(),
      },
    });
    const answer = result.data?.updateClient;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "ClientSuccess") {
      setSaved(true);
      onSaved();
    } else if (answer) setProblem(answer.message);
  }

  return (
    <Paper withBorder p="lg">
      <form onSubmit={submit}>
        <Stack>
          <Title order={4}>Details</Title>
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
          <TextInput label="Billing email" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <TextInput label="Tax rate (%)" value={taxRate} onChange={(e) => setTaxRate(e.currentTarget.value)}
            inputMode="decimal" />
          <MutationError message={problem} />
          {saved && <Text c="green.7" role="status">Saved.</Text>}
          <Button type="submit" loading={state.fetching} w="fit-content">
            Save details
          </Button>
        </Stack>
      </form>
    </Paper>
  );
}

function PlanForm({
  clientId,
  currency,
  current,
  onSaved,
}: {
  clientId: string;
  currency: string;
  current: string;
  onSaved: () => void;
}) {
  const [kind, setKind] = useState<PlanKind>("percentageMargin");
  const [value, setValue] = useState("");
  const [from, setFrom] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [state, setPricing] = useMutation(SetPricing);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setSaved(false);
    const result = await setPricing({ clientId, pricing: pricingInput(kind, value), effectiveFrom: instant(from) });
    const answer = result.data?.setPricing;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "SetPricingSuccess") {
      setSaved(true);
      setValue("");
      onSaved();
    } else if (answer) setProblem(answer.message);
  }

  return (
    <Paper withBorder p="lg">
      <form onSubmit={submit}>
        <Stack>
          <Title order={4}>New plan version</Title>
          <Text size="sm" c="dimmed">
            Now: {current}. A new version applies from its start (now by default) until the next one; calls are
            priced by the version in force when they started.
          </Text>
          <PlanFields kind={kind} value={value} onKind={setKind} onValue={setValue} currency={currency} />
          <TextInput label="In force from (optional)" description="Your local time; empty means now" type="datetime-local"
            value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
          <MutationError message={problem} />
          {saved && <Text c="green.7" role="status">Plan saved.</Text>}
          <Button type="submit" loading={state.fetching} w="fit-content">
            Set plan
          </Button>
        </Stack>
      </form>
    </Paper>
  );
}
