// Tax treatments and billing details for display and forms (docs/tax.md): labels, the printed
// address, and the inputs the API takes from what a form holds. Validation is the API's: the
// forms show its messages as they are.

export const TREATMENTS = ["CUSTOM", "STANDARD", "REVERSE_CHARGE", "EXEMPT"] as const;
export type Treatment = (typeof TREATMENTS)[number];

const LABELS: Record<Treatment, string> = {
  CUSTOM: "Custom percent",
  STANDARD: "Standard rate of the client's country",
  REVERSE_CHARGE: "Reverse charge (0, both tax ids printed)",
  EXEMPT: "Exempt (0, with a reason)",
};

export function treatmentLabel(treatment: string): string {
  return LABELS[treatment as Treatment] ?? treatment.toLowerCase().replaceAll("_", " ");
}

export interface Address {
  lines: readonly string[];
  city: string;
  postalCode: string;
  region: string;
  country: string;
}

/** The address as printed on an invoice, one line each, empty parts left out. */
export function printedAddress(address: Address): string[] {
  const city = [address.postalCode, address.city].filter(Boolean).join(" ");
  const last = [city, address.region].filter(Boolean).join(", ");
  return [...address.lines, last, address.country].filter((line) => line.trim() !== "");
}

/** A form's address fields as the API's PostalAddressInput (lines from a text area). */
export function addressInput(form: { lines: string; city: string; postalCode: string; region: string; country: string }): Address & { lines: string[] } {
  return {
    lines: form.lines.split("\n").map((line) => line.trim()).filter(Boolean),
    city: form.city.trim(),
    postalCode: form.postalCode.trim(),
    region: form.region.trim(),
    country: form.country.trim().toUpperCase(),
  };
}

/** Optional text: empty means none (null), so the API clears it. */
export function optional(value: string): string | null {
  const text = value.trim();
  return text === "" ? null : text;
}
