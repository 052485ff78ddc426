// Exchange rates for display and input (docs/currencies.md): "1 USD = 0.9234 EUR".
export interface RateView {
  base: string;
  quote: string;
  rate: string;
  effectiveOn: string;
  source?: string;
}

export function rateLine(rate: RateView): string {
  const source = rate.source ? `, ${rate.source}` : "";
  return `1 ${rate.base} = ${rate.rate} ${rate.quote} (from ${rate.effectiveOn}${source})`;
}

/** An ISO 4217 code as the API takes it: three letters, upper-cased here for convenience. */
export function currencyCode(text: string): string {
  return text.trim().toUpperCase();
}

/** Bases for the ECB import from "USD, GBP": upper-cased, de-duplicated, in order. */
export function bases(text: string): string[] {
  const seen: string[] = [];
  for (const part of text.split(/[\s,]+/)) {
    const code = currencyCode(part);
    if (code && !seen.includes(code)) seen.push(code);
  }
  return seen.length ? seen : ["USD"];
}
