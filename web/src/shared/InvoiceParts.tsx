// Invoice pieces both apps show: the list (with its download links), the lines with tokens and
// amounts, and the totals. Amounts are decimal strings, rounded half-even in the currency.
import { Anchor, Badge, Group, Stack, Table, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { graphql } from "../gql";
import type { InvoiceLineFieldsFragment, InvoiceRowFieldsFragment } from "../gql/graphql";
import { formatDateTime, formatInteger, formatMoney, formatPercent, periodLabel } from "./format";
import { STATUS_COLOR, statusLabel } from "./invoices";

export const InvoiceRowFields = graphql(`
  fragment InvoiceRowFields on Invoice {
    id
    clientId
    number
    period
    status
    currency
    subtotal { amount }
    tax { amount }
    total { amount }
    issuedAt
    dueAt
    early
    htmlUrl
    pdfUrl
    csvUrl
  }
`);

export const InvoiceLineFields = graphql(`
  fragment InvoiceLineFields on InvoiceLine {
    position
    kind
    description
    modelId
    usagePeriod
    requests
    inputTokens
    outputTokens
    amount { amount }
  }
`);

// Numbers and status badges stay whole on narrow screens (the table scrolls instead).
const NOWRAP = { whiteSpace: "nowrap" } as const;

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={STATUS_COLOR[status] ?? "gray"} variant="light" style={{ minWidth: "max-content" }}>
      {statusLabel(status)}
    </Badge>
  );
}

/** HTML and PDF open in a new tab; the CSV downloads. The session cookie authenticates GETs. */
export function DownloadLinks({ invoice }: { invoice: Pick<InvoiceRowFieldsFragment, "number" | "htmlUrl" | "pdfUrl" | "csvUrl"> }) {
  return (
    <Group gap="xs" wrap="nowrap">
      <Anchor href={invoice.htmlUrl} target="_blank" rel="noopener" aria-label={`Invoice ${invoice.number} as HTML`}>HTML</Anchor>
      <Anchor href={invoice.pdfUrl} target="_blank" rel="noopener" aria-label={`Invoice ${invoice.number} as PDF`}>PDF</Anchor>
      <Anchor href={invoice.csvUrl} download aria-label={`Usage behind invoice ${invoice.number} as CSV`}>CSV</Anchor>
    </Group>
  );
}

export function InvoiceList({
  invoices,
  zone,
  clientName,
  number,
  testId = "invoices",
}: {
  invoices: readonly InvoiceRowFieldsFragment[];
  zone: string;
  clientName?: (clientId: string) => ReactNode;
  number?: (invoice: InvoiceRowFieldsFragment) => ReactNode;
  testId?: string;
}) {
  return (
    <Table.ScrollContainer minWidth={880}>
      <Table data-testid={testId} highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Number</Table.Th>
            {clientName && <Table.Th>Client</Table.Th>}
            <Table.Th>Period</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th ta="right">Subtotal</Table.Th>
            <Table.Th ta="right">Tax</Table.Th>
            <Table.Th ta="right">Total</Table.Th>
            <Table.Th>Issued</Table.Th>
            <Table.Th>Due</Table.Th>
            <Table.Th>Files</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {invoices.map((invoice) => (
            <Table.Tr key={invoice.id} data-testid={`invoice-row-${invoice.number}`}>
              <Table.Td ff="monospace" data-col="number" style={NOWRAP}>{number ? number(invoice) : invoice.number}</Table.Td>
              {clientName && <Table.Td data-col="client">{clientName(invoice.clientId)}</Table.Td>}
              <Table.Td data-col="period">{periodLabel(invoice.period)}{invoice.early ? " (closed early)" : ""}</Table.Td>
              <Table.Td data-col="status" style={NOWRAP}><StatusBadge status={invoice.status} /></Table.Td>
              <Table.Td ta="right" data-col="subtotal">{formatMoney(invoice.subtotal.amount, invoice.currency)}</Table.Td>
              <Table.Td ta="right" data-col="tax">{formatMoney(invoice.tax.amount, invoice.currency)}</Table.Td>
              <Table.Td ta="right" data-col="total" fw={600} style={NOWRAP}>{formatMoney(invoice.total.amount, invoice.currency)}</Table.Td>
              <Table.Td data-col="issued">{formatDateTime(invoice.issuedAt, zone)}</Table.Td>
              <Table.Td data-col="due">{formatDateTime(invoice.dueAt, zone)}</Table.Td>
              <Table.Td><DownloadLinks invoice={invoice} /></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

const LINE_KIND: Record<string, string> = {
  USAGE: "usage",
  PRIOR_USAGE: "earlier usage",
  FIXED_FEE: "monthly fee",
  FIXED_PRICE: "fixed price",
  CREDIT: "credit",
  BYOK_USAGE: "your own key",
  SETTLEMENT: "settled estimate",
};

export function InvoiceLines({
  lines,
  currency,
  period,
  testId = "invoice-lines",
}: {
  lines: readonly InvoiceLineFieldsFragment[];
  currency: string;
  period: string;
  testId?: string;
}) {
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Line</Table.Th>
            <Table.Th>Kind</Table.Th>
            <Table.Th ta="right">Requests</Table.Th>
            <Table.Th ta="right">Input tokens</Table.Th>
            <Table.Th ta="right">Output tokens</Table.Th>
            <Table.Th ta="right">Amount</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {[...lines].sort((a, b) => a.position - b.position).map((line) => (
            <Table.Tr key={line.position} data-testid="invoice-line">
              <Table.Td data-col="description">
                {line.description}
                {line.usagePeriod && line.usagePeriod !== period ? ` (usage of ${periodLabel(line.usagePeriod)})` : ""}
              </Table.Td>
              <Table.Td>{LINE_KIND[line.kind] ?? line.kind.toLowerCase()}</Table.Td>
              <Table.Td ta="right">{line.requests ? formatInteger(line.requests) : ""}</Table.Td>
              <Table.Td ta="right">{line.inputTokens ? formatInteger(line.inputTokens) : ""}</Table.Td>
              <Table.Td ta="right">{line.outputTokens ? formatInteger(line.outputTokens) : ""}</Table.Td>
              <Table.Td ta="right" data-col="amount">{formatMoney(line.amount.amount, currency)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function Totals({
  subtotal,
  taxRate,
  tax,
  total,
  currency,
  taxNote,
  testId = "invoice-totals",
}: {
  subtotal: string;
  taxRate: string;
  tax: string;
  total: string;
  currency: string;
  taxNote?: string | null;
  testId?: string;
}) {
  return (
    <Stack gap={2} align="flex-end" data-testid={testId}>
      <Text size="sm">Subtotal <b data-testid={`${testId}-subtotal`}>{formatMoney(subtotal, currency)}</b></Text>
      <Text size="sm">Tax ({formatPercent(taxRate)}) <b data-testid={`${testId}-tax`}>{formatMoney(tax, currency)}</b></Text>
      <Text fw={700}>Total <span data-testid={`${testId}-total`}>{formatMoney(total, currency)}</span></Text>
      {taxNote && <Text size="sm" fw={600} data-testid={`${testId}-note`}>{taxNote}</Text>}
    </Stack>
  );
}

export interface Draft {
  period: string;
  currency: string;
  lines: readonly InvoiceLineFieldsFragment[];
  subtotal: { amount: string };
  taxRate: string;
  tax: { amount: string };
  total: { amount: string };
}

/**
 * What closing the month would invoice now (draftInvoice). The API answers null (with an
 * error naming the invoice) for a month already invoiced: then the invoice is named instead.
 */
export function DraftInvoice({
  draft,
  period,
  invoices,
}: {
  draft: Draft | null | undefined;
  period: string;
  invoices: readonly Pick<InvoiceRowFieldsFragment, "number" | "period" | "status">[];
}) {
  if (!draft) {
    const invoiced = invoices.find((i) => i.period === period && i.status !== "VOID");
    return (
      <Text c="dimmed" data-testid="draft-invoice">
        {invoiced
          ? `${periodLabel(period)} is invoiced (${invoiced.number}); later usage goes on the next invoice.`
          : `No draft for ${periodLabel(period)}.`}
      </Text>
    );
  }
  return (
    <Stack gap="xs" data-testid="draft-invoice">
      <Title order={5}>Draft for {periodLabel(draft.period)} (if the month closed now)</Title>
      {draft.lines.length === 0 ? (
        <Text c="dimmed">Nothing to invoice yet for this month.</Text>
      ) : (
        <InvoiceLines lines={draft.lines} currency={draft.currency} period={draft.period} testId="draft-lines" />
      )}
      <Totals subtotal={draft.subtotal.amount} taxRate={draft.taxRate} tax={draft.tax.amount} total={draft.total.amount}
        currency={draft.currency} testId="draft-totals" />
    </Stack>
  );
}
