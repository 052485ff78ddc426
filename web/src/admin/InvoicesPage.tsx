// Invoices: the list with filters and closing a month (owners and admins); one invoice with its
// lines, totals, history and actions (mark paid, void, credit note); a client's invoices and
// current draft on its page.
import { Anchor, Button, Checkbox, Group, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";
import type { InvoiceRowFieldsFragment, InvoiceStatus } from "../gql/graphql";
import { formatDateTime, formatMoney, periodLabel, periodOf } from "../shared/format";
import { closeRule, invoiceActions, statusHistory } from "../shared/invoices";
import { DownloadLinks, DraftInvoice, InvoiceLines, InvoiceList, StatusBadge, Totals, type Draft } from "../shared/InvoiceParts";
import { Empty, ErrorState, Loading, MutationError } from "../shared/states";
import { InvoiceDeliveryPanel, OverdueInvoices } from "./InvoiceDelivery";
import { printedAddress } from "../shared/tax";
import { canWrite, useSession } from "./session";

const InvoicesQuery = graphql(`
  query InvoicesPage($clientId: ID, $period: String, $status: InvoiceStatus) {
    invoices(clientId: $clientId, period: $period, status: $status) { ...InvoiceRowFields }
    clients { id name }
  }
`);

const InvoiceQuery = graphql(`
  query InvoicePage($id: ID!) {
    invoice(id: $id) {
      ...InvoiceRowFields
      taxRate
      taxNote
      billTo { legalName taxId poReference address { lines city postalCode region country } }
      issuer { legalName taxId }
      billToName
      billToEmail
      paidAt
      voidedAt
      voidReason
      lines { ...InvoiceLineFields }
      creditNotes { id number amount { amount currency } reason issuedAt }
    }
    clients { id name }
  }
`);

const ClosePeriod = graphql(`
  mutation ClosePeriod($period: String!, $early: Boolean!) {
    closePeriod(period: $period, early: $early) {
      __typename
      ... on ClosePeriodSuccess { period invoices { id number } refused { clientId reason } }
      ... on ValidationError { message }
    }
  }
`);

const MarkPaid = graphql(`
  mutation MarkInvoicePaid($id: ID!) {
    markInvoicePaid(id: $id) {
      __typename
      ... on InvoiceSuccess { invoice { id status paidAt } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
      ... on ConflictError { message }
    }
  }
`);

const VoidInvoice = graphql(`
  mutation VoidInvoice($id: ID!, $reason: String!) {
    voidInvoice(id: $id, reason: $reason) {
      __typename
      ... on InvoiceSuccess { invoice { id status voidedAt voidReason } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
      ... on ConflictError { message }
    }
  }
`);

const IssueCreditNote = graphql(`
  mutation IssueCreditNote($invoiceId: ID!, $amount: Decimal!, $reason: String!) {
    issueCreditNote(invoiceId: $invoiceId, amount: $amount, reason: $reason) {
      __typename
      ... on IssueCreditNoteSuccess { creditNote { id number } invoice { id } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
      ... on ConflictError { message }
    }
  }
`);

const STATUSES: { value: InvoiceStatus; label: string }[] = [
  { value: "FINALIZED", label: "finalized (unpaid)" },
  { value: "PAID", label: "paid" },
  { value: "VOID", label: "void" },
];

function numberLink(invoice: InvoiceRowFieldsFragment) {
  return <Anchor component={Link} to={`/invoices/${invoice.id}`}>{invoice.number}</Anchor>;
}

export function InvoicesPage() {
  const session = useSession();
  const [clientId, setClientId] = useState<string | null>(null);
  const [periodText, setPeriodText] = useState("");
  const [status, setStatus] = useState<InvoiceStatus | null>(null);
  const period = /^\d{4}-\d{2}$/.test(periodText.trim()) ? periodText.trim() : null;
  const [{ data, fetching, error }, reload] = useQuery({ query: InvoicesQuery, variables: { clientId, period, status } });
  const refresh = () => reload({ requestPolicy: "network-only" });
  const names = new Map((data?.clients ?? []).map((c) => [c.id, c.name]));
  const filtered = clientId !== null || period !== null || status !== null;

  return (
    <Stack>
      <Title order={2}>Invoices</Title>
      <OverdueInvoices zone={session.timeZone} />
      <Group align="flex-end">
        <Select label="Client" placeholder="All clients" clearable searchable value={clientId} onChange={setClientId}
          data={(data?.clients ?? []).map((c) => ({ value: c.id, label: c.name }))} />
        <TextInput label="Period" placeholder="YYYY-MM" value={periodText} onChange={(e) => setPeriodText(e.currentTarget.value)}
          error={periodText.trim() && !period ? "A month as YYYY-MM" : undefined} />
        <Select label="Status" placeholder="Any status" clearable value={status}
          onChange={(v) => setStatus(v as InvoiceStatus | null)} data={STATUSES} />
      </Group>
      {fetching && !data && <Loading what="invoices" />}
      {error && !data && <ErrorState error={error} retry={refresh} />}
      {data && data.invoices.length === 0 && (
        <Empty title={filtered ? "No invoice matches" : "No invoices yet"}>
          <Text c="dimmed" maw={520}>
            {filtered
              ? "Clear a filter to see more."
              : "An invoice is finalized for every client when its month is closed: automatically after the month ends, or now below."}
          </Text>
        </Empty>
      )}
      {data && data.invoices.length > 0 && (
        <InvoiceList invoices={data.invoices} zone={session.timeZone} number={numberLink}
          clientName={(id) => <Anchor component={Link} to={`/clients/${id}`}>{names.get(id) ?? id}</Anchor>} />
      )}
      {canWrite(session) && <ClosePeriodForm onClosed={refresh} names={names} />}
    </Stack>
  );
}

function ClosePeriodForm({ onClosed, names }: { onClosed: () => void; names: Map<string, string> }) {
  const session = useSession();
  const current = periodOf(new Date(), session.timeZone);
  const [period, setPeriod] = useState(current);
  const [early, setEarly] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [state, close] = useMutation(ClosePeriod);
  const rule = closeRule(period.trim(), current);
  const needsEarly = rule.allowed && rule.early;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setDone(null);
    if (!rule.allowed) return setProblem(rule.why);
    const label = periodLabel(period.trim());
    const what = needsEarly
      ? `Close ${label} now, before it ends? Every client gets its invoice for ${label} finalized and numbered now; ` +
        "usage after this moment lands on next month's invoice as an earlier-usage line. Finalized invoices cannot be edited."
      : `Close ${label}? Every client without one gets its invoice for ${label} finalized and numbered. Finalized invoices cannot be edited.`;
    if (!window.confirm(what)) return;
    const result = await close({ period: period.trim(), early: needsEarly });
    const answer = result.data?.closePeriod;
    if (result.error) setProblem(result.error.message);
    else if (answer?.__typename === "ValidationError") setProblem(answer.message);
    else if (answer?.__typename === "ClosePeriodSuccess") {
      const count = answer.invoices.length;
      setDone(count ? `${label} closed: ${count} invoice${count === 1 ? "" : "s"} finalized (${answer.invoices.map((i) => i.number).join(", ")}).`
        : `${label} was already closed: no new invoice.`);
      if (answer.refused.length) {
        setProblem(answer.refused.map((r) => `Not invoiced: ${names.get(r.clientId) ?? r.clientId}: ${r.reason}`).join(" "));
      }
      setEarly(false);
      onClosed();
    }
  }

  return (
    <Paper withBorder p="md">
      <form onSubmit={submit} aria-label="Close a period">
        <Stack gap="sm">
          <Title order={4}>Close a month</Title>
          <Text size="sm" c="dimmed">
            Months close by themselves a little after they end. Close one by hand to invoice now; closing twice changes nothing.
          </Text>
          <Group align="flex-end">
            <TextInput label="Month to close" placeholder="YYYY-MM" value={period}
              onChange={(e) => { setPeriod(e.currentTarget.value); setEarly(false); }}
              error={!rule.allowed && period.trim() ? rule.why : undefined} />
            {needsEarly && (
              <Checkbox label="Close early: this month has not ended" checked={early} onChange={(e) => setEarly(e.currentTarget.checked)} />
            )}
            <Button type="submit" loading={state.fetching} disabled={!rule.allowed || (needsEarly && !early)}>
              Close {rule.allowed ? periodLabel(period.trim()) : "month"}
            </Button>
          </Group>
          {done && <Text c="teal.7" role="status" data-testid="close-result">{done}</Text>}
          <MutationError message={problem} />
        </Stack>
      </form>
    </Paper>
  );
}

export function InvoicePage() {
  const { id = "" } = useParams();
  const session = useSession();
  const [{ data, fetching, error }, reload] = useQuery({ query: InvoiceQuery, variables: { id } });
  const refresh = () => reload({ requestPolicy: "network-only" });
  if (fetching && !data) return <Loading what="the invoice" />;
  if (error && !data) return <ErrorState error={error} retry={refresh} />;
  const invoice = data?.invoice;
  if (!invoice) {
    return (
      <Empty title="No such invoice">
        <Text>Go back to the <Anchor component={Link} to="/invoices">invoices</Anchor>.</Text>
      </Empty>
    );
  }
  const client = data.clients.find((c) => c.id === invoice.clientId);
  const zone = session.timeZone;
  return (
    <Stack>
      <Group justify="space-between">
        <Group gap="sm">
          <Title order={2} data-testid="invoice-number">{invoice.number}</Title>
          <StatusBadge status={invoice.status} />
        </Group>
        <DownloadLinks invoice={invoice} />
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="md">
          <Text>
            <Anchor component={Link} to={`/clients/${invoice.clientId}`}>{client?.name ?? invoice.billToName}</Anchor>
            {invoice.billToEmail ? ` (${invoice.billToEmail})` : ""}
          </Text>
          {invoice.billTo && (
            <Text size="sm" data-testid="invoice-bill-to">
              {[invoice.billTo.legalName, ...printedAddress(invoice.billTo.address),
                invoice.billTo.taxId ? `Tax id: ${invoice.billTo.taxId}` : "",
                invoice.billTo.poReference ? `Purchase order: ${invoice.billTo.poReference}` : ""]
                .filter(Boolean).join(" · ")}
            </Text>
          )}
          {invoice.issuer && (
            <Text size="sm" c="dimmed">
              Issued by {invoice.issuer.legalName}{invoice.issuer.taxId ? ` (tax id ${invoice.issuer.taxId})` : ""}
            </Text>
          )}
          <Text size="sm">{periodLabel(invoice.period)}{invoice.early ? ", closed early" : ""}</Text>
          <Text size="sm" c="dimmed">Issued {formatDateTime(invoice.issuedAt, zone)}; due {formatDateTime(invoice.dueAt, zone)}</Text>
        </Paper>
        <Paper withBorder p="md">
          <Title order={5} mb="xs">History</Title>
          <Table data-testid="invoice-history">
            <Table.Tbody>
              {statusHistory(invoice).map((entry) => (
                <Table.Tr key={`${entry.at}-${entry.what}`}>
                  <Table.Td>{formatDateTime(entry.at, zone)}</Table.Td>
                  <Table.Td>
                    {entry.what}
                    {entry.creditAmount ? ` (${formatMoney(entry.creditAmount, invoice.currency)})` : ""}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      </SimpleGrid>
      <Paper withBorder p="md">
        <InvoiceLines lines={invoice.lines} currency={invoice.currency} period={invoice.period} />
        <Totals subtotal={invoice.subtotal.amount} taxRate={invoice.taxRate} tax={invoice.tax.amount} total={invoice.total.amount}
          currency={invoice.currency} taxNote={invoice.taxNote} />
      </Paper>
      <InvoiceDeliveryPanel invoice={invoice} canSend={canWrite(session)} zone={zone} />
      {canWrite(session) && <InvoiceActions invoice={invoice} onChange={refresh} />}
    </Stack>
  );
}

function InvoiceActions({ invoice, onChange }: { invoice: { id: string; number: string; status: string; currency: string }; onChange: () => void }) {
  const allowed = invoiceActions(invoice.status);
  const [problem, setProblem] = useState<string | null>(null);
  const [voidReason, setVoidReason] = useState("");
  const [creditAmount, setCreditAmount] = useState("");
  const [creditReason, setCreditReason] = useState("");
  const [paidState, markPaid] = useMutation(MarkPaid);
  const [voidState, voidIt] = useMutation(VoidInvoice);
  const [creditState, credit] = useMutation(IssueCreditNote);

  // Every answer is a typed union: success, or an error with a message to show.
  function outcome(result: { error?: { message: string }; data?: unknown }, field: string, success: string): boolean {
    const answer = (result.data as Record<string, { __typename: string; message?: string }> | undefined)?.[field];
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== success) setProblem(answer.message ?? "Refused.");
    else return true;
    return false;
  }

  async function pay() {
    setProblem(null);
    if (!window.confirm(`Mark ${invoice.number} as paid?`)) return;
    if (outcome(await markPaid({ id: invoice.id }), "markInvoicePaid", "InvoiceSuccess")) onChange();
  }

  async function submitVoid(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    if (!window.confirm(`Void ${invoice.number}? Its usage returns to unbilled and the month can be closed again, with a new number.`)) return;
    if (outcome(await voidIt({ id: invoice.id, reason: voidReason.trim() }), "voidInvoice", "InvoiceSuccess")) {
      setVoidReason("");
      onChange();
    }
  }

  async function submitCredit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await credit({ invoiceId: invoice.id, amount: creditAmount.trim(), reason: creditReason.trim() });
    if (outcome(result, "issueCreditNote", "IssueCreditNoteSuccess")) {
      setCreditAmount("");
      setCreditReason("");
      onChange();
    }
  }

  if (!allowed.markPaid && !allowed.void && !allowed.creditNote) {
    return <Text c="dimmed">A void invoice takes no action; close its month again to issue a replacement.</Text>;
  }
  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>Actions</Title>
        {allowed.markPaid && (
          <Group><Button onClick={pay} loading={paidState.fetching}>Mark paid</Button></Group>
        )}
        {allowed.void && (
          <form onSubmit={submitVoid} aria-label="Void the invoice">
            <Group align="flex-end">
              <TextInput label="Reason for voiding" value={voidReason} onChange={(e) => setVoidReason(e.currentTarget.value)} miw={280} />
              <Button type="submit" color="red" variant="light" loading={voidState.fetching}>Void invoice</Button>
            </Group>
          </form>
        )}
        {allowed.creditNote && (
          <form onSubmit={submitCredit} aria-label="Issue a credit note">
            <Group align="flex-end">
              <TextInput label={`Credit amount (${invoice.currency})`} value={creditAmount} onChange={(e) => setCreditAmount(e.currentTarget.value)} />
              <TextInput label="Reason for the credit" value={creditReason} onChange={(e) => setCreditReason(e.currentTarget.value)} miw={240} />
              <Button type="submit" variant="light" loading={creditState.fetching}>Issue credit note</Button>
            </Group>
          </form>
        )}
        <MutationError message={problem} />
      </Stack>
    </Paper>
  );
}

/** The client page's section: its invoices, and what closing the shown month would invoice now. */
export function ClientInvoices({
  invoices,
  draft,
  period,
  zone,
}: {
  invoices: readonly InvoiceRowFieldsFragment[];
  draft: Draft | null | undefined;
  period: string;
  zone: string;
}) {
  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>Invoices</Title>
        {invoices.length === 0 ? (
          <Text c="dimmed">No invoices yet: one is finalized when a month is closed (see the Invoices page).</Text>
        ) : (
          <InvoiceList invoices={invoices} zone={zone} number={numberLink} testId="client-invoices" />
        )}
        <DraftInvoice draft={draft} period={period} invoices={invoices} />
      </Stack>
    </Paper>
  );
}
