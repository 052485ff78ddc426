// The portal's own billing details and tax treatment, as its invoices will print them (read
// only: the agency changes them).
import { Paper, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { printedAddress, treatmentLabel } from "../shared/tax";

const PortalTaxQuery = graphql(`
  query PortalTax($clientId: ID!) {
    clientTax(clientId: $clientId) {
      treatment
      exemptReason
      billingDetails {
        legalName
        taxId
        poReference
        address { lines city postalCode region country }
      }
    }
  }
`);

export function PortalBillingDetails({ clientId }: { clientId: string }) {
  const [{ data }] = useQuery({ query: PortalTaxQuery, variables: { clientId } });
  const tax = data?.clientTax;
  if (!tax) return null;
  const details = tax.billingDetails;
  return (
    <Paper withBorder p="md" data-testid="portal-billing-details">
      <Title order={4} mb="sm">Billing details</Title>
      {details ? (
        <Stack gap={2}>
          <Text size="sm">{details.legalName}</Text>
          {printedAddress(details.address).map((line) => <Text size="sm" key={line}>{line}</Text>)}
          {details.taxId && <Text size="sm">Tax id: {details.taxId}</Text>}
          {details.poReference && <Text size="sm">Purchase order: {details.poReference}</Text>}
          <Text size="sm" c="dimmed">Tax: {treatmentLabel(tax.treatment)}{tax.exemptReason ? `, ${tax.exemptReason}` : ""}</Text>
        </Stack>
      ) : (
        <Text c="dimmed">Your invoices show your name and billing email. Ask your provider to add your legal details.</Text>
      )}
    </Paper>
  );
}
